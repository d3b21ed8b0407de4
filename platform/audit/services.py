"""Recording custody events; callers run this inside the transaction that makes the change."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from accounts.models import Team
from audit.models import AuditEvent


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
    return AuditEvent.objects.create(
        action=action,
        actor=actor if authenticated else None,
        actor_name=actor.get_username() if authenticated else "",
        team_id=team.pk if isinstance(team, Team) else team,
        object_type=object_type,
        object_id=str(object_id),
        sha256=sha256,
        ip=ip,
        detail=detail or {},
    )
