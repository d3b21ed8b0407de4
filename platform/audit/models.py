"""The custody log. Rows are only ever inserted: the ORM refuses to update or delete them and, on
Postgres, a trigger refuses it too (so raw SQL from the application cannot rewrite history either).

Each event is also a link of a hash chain, one chain per team (``team:<id>``, and ``platform`` for
events of no team): its hash covers a sequence number, its predecessor's hash and its content's digest,
so an edit or a deletion made with the database owner's rights (who can drop the trigger) still shows
(``manage.py verify_audit``). The hashes are defined once, in ``audit.verify``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.models import Team
from audit.verify import GENESIS_HASH, format_timestamp


class AuditAction(models.TextChoices):
    CASE_CREATED = "case.created", "Case opened"
    CASE_UPDATED = "case.updated", "Case edited"
    MEDIA_UPLOADED = "media.uploaded", "Media uploaded"
    MEDIA_DOWNLOADED = "media.downloaded", "Original downloaded"
    MEDIA_VIEWED = "media.viewed", "Original viewed"
    MEDIA_ORIGINAL_DELETED = "media.original_deleted", "Original deleted (retention)"
    ARTIFACT_VIEWED = "artifact.viewed", "Crop or heatmap viewed"
    JOB_SUBMITTED = "job.submitted", "Job submitted"
    JOB_CANCELLED = "job.cancelled", "Job cancelled"
    JOB_RETRIED = "job.retried", "Job retried"
    JOB_REVIEWED = "job.reviewed", "Job reviewed"
    REPORT_DOWNLOADED = "report.downloaded", "Report downloaded"
    REPORT_VIEWED = "report.viewed", "Report viewed"
    LOGIN_FAILED = "auth.login_failed", "Sign-in failed"
    TOKEN_CREATED = "token.created", "API token created"
    TOKEN_REVOKED = "token.revoked", "API token revoked"
    CHAIN_REHASHED = "audit.chain_rehashed", "Custody chain re-hashed (new hash version)"


# Reads of evidence: the original played, a crop or heatmap shown, the report opened. Each is recorded once per
# person, object and kind of read in a window (audit.services.record_read); reports and the dashboard list the
# other actions, the substantive ones, and count these.
EVIDENCE_READ_ACTIONS = frozenset({AuditAction.MEDIA_VIEWED, AuditAction.ARTIFACT_VIEWED, AuditAction.REPORT_VIEWED})


class AppendOnlyError(Exception):
    """An attempt to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit events cannot be updated")

    def delete(self):
        raise AppendOnlyError("audit events cannot be deleted")


def chain_for_team(team_id: int | None) -> str:
    return f"team:{team_id}" if team_id is not None else "platform"


def events_about_job(job_id: Any, media_id: Any) -> models.QuerySet:
    """Custody events about a job or its original, newest first; the ids may be ``OuterRef``s (a subquery)."""
    as_text = {"output_field": models.CharField()}
    return AuditEvent.objects.filter(
        models.Q(object_type="job", object_id=Cast(job_id, **as_text))
        | models.Q(object_type="media", object_id=Cast(media_id, **as_text))
    ).order_by("-seq")


class AuditEvent(models.Model):
    # Set by the code that appends the event (not auto_now_add): the time is part of the hashed content.
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    # PROTECT: a user or team that appears in the log cannot be deleted (deactivate them instead).
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    # The username at the time, so the log reads the same if the account is renamed.
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices, db_index=True)
    team = models.ForeignKey(Team, null=True, on_delete=models.PROTECT, related_name="+")
    object_type = models.CharField(max_length=32)
    object_id = models.CharField(max_length=64)
    sha256 = models.CharField(max_length=64, blank=True, help_text="hash of the evidence the event concerns")
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # The hash chain (audit.verify): which chain, the position in it, the predecessor's hash, this event's hash.
    chain = models.CharField(max_length=40, editable=False)
    seq = models.PositiveBigIntegerField(editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    entry_hash = models.CharField(max_length=64, editable=False)
    # Random, hashed with the content and shown only with it: a redacted link's content digest cannot be
    # confirmed by hashing a guess of its content.
    salt = models.CharField(max_length=32, editable=False)
    # The hash this event had under hash version 1, kept when migration 0010 re-hashed the chain.
    v1_entry_hash = models.CharField(max_length=64, blank=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique")]

    def __str__(self) -> str:
        actor = self.actor_name or "system"
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {actor} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be deleted")

    def chain_content(self) -> dict[str, Any]:
        """What the event's hash covers (audit.verify: LINK_FIELDS, the salt, CONTENT_FIELDS), as it is exported."""
        return {
            "chain": self.chain,
            "seq": self.seq,
            "prev_hash": self.prev_hash,
            "salt": self.salt,
            "created_at": format_timestamp(self.created_at),
            "actor_id": self.actor_id,
            "actor_name": self.actor_name,
            "action": self.action,
            "team_id": self.team_id,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "sha256": self.sha256,
            "ip": self.ip,
            "detail": self.detail,
        }


class AuditChainHead(models.Model):
    """The last event of each chain. Appending locks this row (SELECT ... FOR UPDATE) until the
    action's transaction commits, so two concurrent writers cannot both extend the same event.
    """

    chain = models.CharField(max_length=40, primary_key=True)
    seq = models.PositiveBigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"{self.chain} @ {self.seq} {self.entry_hash}"
