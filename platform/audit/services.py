"""Recording custody events; callers run this inside the transaction that makes the change."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Team
from audit.models import AuditChainHead, AuditEvent, chain_for_team
from audit.verify import canonical_json, entry_hash


def client_ip(request: HttpRequest | None) -> str | None:
    """The peer address. X-Forwarded-For is not trusted: any client can write it."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


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
    )
    append(event)
    return event


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
