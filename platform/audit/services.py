"""Recording custody events; callers run this inside the transaction that makes the change."""

from __future__ import annotations

import csv
import functools
import io
import ipaddress
import json
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Team
from audit.models import AuditChainHead, AuditEvent, chain_for_team
from audit.verify import (
    CSV_COLUMNS,
    EXPORT_FORMAT,
    GENESIS_HASH,
    HASH_VERSION,
    canonical_json,
    content_hash,
    entry_hash,
    event_as_csv_row,
    format_timestamp,
)


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: the peer's, or, when the peer is the trusted proxy, the one it forwarded.

    One hop: nginx (deploy/nginx/snippets/proxy-headers.conf) sets X-Forwarded-For to the address it saw,
    replacing whatever the client sent, and is the only peer in settings.TRUSTED_PROXIES (compose pins its
    address). The rightmost entry is that hop; anything left of it would have been written by the client,
    and no entry is skipped for being in a trusted range (the client's own network may be one). From any
    other peer the header is ignored.
    """
    if request is None:
        return None
    peer = request.META.get("REMOTE_ADDR") or None
    if peer is None or not _is_trusted_proxy(peer):
        return peer
    hop = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
    try:
        ipaddress.ip_address(hop)
    except ValueError:
        return peer  # no header, or a malformed one: the proxy itself is all that is known
    return hop


def _is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _trusted_networks(tuple(settings.TRUSTED_PROXIES)))


@functools.lru_cache(maxsize=8)
def _trusted_networks(entries: tuple[str, ...]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip()]


def record(
    action: str,
    *,
    actor: AbstractBaseUser | None,
    object_type: str,
    object_id: Any,
    team: Team | int | None = None,
    sha256: str = "",
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    authenticated = actor is not None and actor.is_authenticated
    event = AuditEvent(
        action=action,
        actor=actor if authenticated else None,
        actor_name=actor.get_username() if authenticated else "",
        team_id=team.pk if isinstance(team, Team) else team,
        object_type=object_type,
        object_id=str(object_id),
        sha256=sha256,
        # Hashed as the database will give them back: the address in the field's normal form,
        # the detail as plain JSON (what a JSON column returns).
        ip=AuditEvent._meta.get_field("ip").get_prep_value(ip),
        detail=json.loads(canonical_json(detail or {})),
        salt=new_salt(),
    )
    append(event)
    return event


# A page plays the original in a dozen range requests and shows dozens of crops: one read of each kind per person
# and object in this window is the custody fact; recording every request buried uploads and reviews under reads.
EVIDENCE_READ_WINDOW_S = 600


def record_read(
    action: str,
    *,
    actor: AbstractBaseUser,
    object_type: str,
    object_id: Any,
    team: Team | int | None = None,
    sha256: str = "",
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent | None:
    """Record a read of evidence (``EVIDENCE_READ_ACTIONS``) unless the same person's same kind of read of the same
    object is in the chain within ``EVIDENCE_READ_WINDOW_S``; None when it already is.

    Checked under the chain head's lock (taken again by :func:`append`), so two requests of one page at once
    record one event. The event is a link of the chain like any other.
    """
    chain = chain_for_team(team.pk if isinstance(team, Team) else team)
    since = timezone.now() - timedelta(seconds=EVIDENCE_READ_WINDOW_S)
    with transaction.atomic():
        AuditChainHead.objects.select_for_update().filter(chain=chain).first()
        already = AuditEvent.objects.filter(
            chain=chain,
            action=action,
            actor=actor,
            object_type=object_type,
            object_id=str(object_id),
            created_at__gte=since,
        ).exists()
        if already:
            return None
        return record(
            action,
            actor=actor,
            object_type=object_type,
            object_id=object_id,
            team=team,
            sha256=sha256,
            ip=ip,
            detail=detail,
        )


def new_salt() -> str:
    """An event's salt (audit.verify): 128 random bits."""
    return secrets.token_hex(16)


def append(event: AuditEvent) -> AuditEvent:
    """Link ``event`` to the end of its team's chain and insert it.

    The chain's head row stays locked until the caller's transaction ends, so concurrent actions
    of one team append one after another and each names the hash of the event that really precedes
    it; if the action rolls back, so do its event and the head.
    """
    chain = chain_for_team(event.team_id)
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(chain=chain).first()
        if head is None:
            # The chain's first event: create its head unless a concurrent first event just did.
            AuditChainHead.objects.bulk_create([AuditChainHead(chain=chain)], ignore_conflicts=True)
            head = AuditChainHead.objects.select_for_update().get(chain=chain)
        event.chain, event.seq, event.prev_hash = chain, head.seq + 1, head.entry_hash
        event.created_at = timezone.now()
        event.entry_hash = entry_hash(event.chain_content())
        event.save(force_insert=True)
        AuditChainHead.objects.filter(chain=chain).update(seq=event.seq, entry_hash=event.entry_hash)
    return event


def chain_head(team_id: int | None) -> dict[str, Any]:
    """A chain's last link, ``{"chain", "seq", "entry_hash"}`` (seq 0 and the genesis hash when empty)."""
    chain = chain_for_team(team_id)
    head = AuditChainHead.objects.filter(chain=chain).first() or AuditChainHead(chain=chain)
    return {"chain": chain, "seq": head.seq, "entry_hash": head.entry_hash}


# --- custody of one case or job: what the dashboard shows and what is handed to a third party ---


Subject = tuple[str, str]


def subjects_of_job(job) -> set[Subject]:
    """The records whose events make up a job's custody: the job and its original."""
    return {("job", str(job.pk)), ("media", str(job.media_id))}


def subjects_of_case(case) -> set[Subject]:
    """A case's custody: the case, its originals and their jobs."""
    from cases.models import AnalysisJob, Media

    subjects = {("case", str(case.pk))}
    subjects |= {("media", str(pk)) for pk in Media.objects.filter(case=case).values_list("pk", flat=True)}
    subjects |= {("job", str(pk)) for pk in AnalysisJob.objects.filter(media__case=case).values_list("pk", flat=True)}
    return subjects


def _about(subjects: set[Subject]) -> Q:
    by_type: dict[str, list[str]] = {}
    for object_type, object_id in subjects:
        by_type.setdefault(object_type, []).append(object_id)
    query = Q(pk__in=[])
    for object_type, ids in by_type.items():
        query |= Q(object_type=object_type, object_id__in=ids)
    return query


def custody_events(team_id: int, subjects: set[Subject]):
    """The events about ``subjects`` in the team's chain, newest first."""
    return AuditEvent.objects.filter(_about(subjects), chain=chain_for_team(team_id)).order_by("-seq")


def export_document(team_id: int, subjects: set[Subject] | None, scope: dict[str, Any]) -> dict[str, Any]:
    """The team's chain from its first event, the events about ``subjects`` (every event when None) in full and
    every other one as a redacted link (its content's digest in place of its content), in the form
    ``python -m audit.verify`` checks (``audit.verify.read_export``). Events about the chain itself (its
    re-hashing) are always in full: they say nothing about any case.

    Read in one query, so the head is the last event read even while others are being appended.
    """
    chain = chain_for_team(team_id)
    exported = [
        exported_event(event, redacted=not _shown_in_full(event, subjects))
        for event in AuditEvent.objects.filter(chain=chain).order_by("seq").iterator(chunk_size=2000)
    ]
    last = exported[-1] if exported else {"seq": 0, "entry_hash": GENESIS_HASH}
    return {
        "format": EXPORT_FORMAT,
        "version": HASH_VERSION,
        "chain": chain,
        "scope": scope,
        "exported_at": format_timestamp(timezone.now()),
        "head": {"seq": last["seq"], "entry_hash": last["entry_hash"]},
        "verify_with": "python -m audit.verify FILE (stdlib only: platform/audit/verify.py)",
        "events": exported,
    }


def _shown_in_full(event: AuditEvent, subjects: set[Subject] | None) -> bool:
    return subjects is None or event.object_type == "chain" or (event.object_type, event.object_id) in subjects


def exported_event(event: AuditEvent, *, redacted: bool) -> dict[str, Any]:
    """One link as exported: in full, or redacted to its place, its content's digest and its hash."""
    content = event.chain_content()
    link = {"id": event.pk, "chain": event.chain, "seq": event.seq, "prev_hash": event.prev_hash}
    shown = {} if redacted else {key: value for key, value in content.items() if key not in link}
    return {
        **link,
        **shown,
        "content_hash": content_hash(content),
        "entry_hash": event.entry_hash,
        "redacted": redacted,
    }


def export_json(document: dict[str, Any]) -> str:
    """The export as the JSON file a third party is given."""
    return json.dumps(document, indent=1)


def export_csv(document: dict[str, Any]) -> str:
    """The same export as CSV, one row per event (a redacted row has its link and hashes, no content)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for event in document["events"]:
        writer.writerow(event_as_csv_row(event))
    return out.getvalue()
