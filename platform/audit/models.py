"""The custody log. Rows are only ever inserted: the ORM refuses to update or delete them and, on
Postgres, a trigger refuses it too (so raw SQL from the application cannot rewrite history either).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import Team


class AuditAction(models.TextChoices):
    CASE_CREATED = "case.created", "Case opened"
    CASE_UPDATED = "case.updated", "Case edited"
    MEDIA_UPLOADED = "media.uploaded", "Media uploaded"
    MEDIA_DOWNLOADED = "media.downloaded", "Original downloaded"
    JOB_SUBMITTED = "job.submitted", "Job submitted"
    JOB_CANCELLED = "job.cancelled", "Job cancelled"
    JOB_RETRIED = "job.retried", "Job retried"
    JOB_REVIEWED = "job.reviewed", "Job reviewed"
    REPORT_DOWNLOADED = "report.downloaded", "Report downloaded"
    TOKEN_CREATED = "token.created", "API token created"
    TOKEN_REVOKED = "token.revoked", "API token revoked"


class AppendOnlyError(Exception):
    """An attempt to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit events cannot be updated")

    def delete(self):
        raise AppendOnlyError("audit events cannot be deleted")


class AuditEvent(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
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

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        actor = self.actor_name or "system"
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {actor} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be deleted")
