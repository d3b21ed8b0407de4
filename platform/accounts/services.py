"""Team membership, role and API token rules used by every view that scopes data to a user."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import ApiToken, Membership, Role, Team

# Roles that may set a job's review status and override its verdict.
REVIEW_ROLES = frozenset({Role.REVIEWER, Role.ADMIN})
TOKEN_BYTES = 32
# last_used_at is a hint for people cleaning up tokens, not a log: write it at most this often.
TOKEN_TOUCH_INTERVAL_S = 60


def primary_team(user: AbstractBaseUser) -> Team | None:
    """The team a submission without a case lands in: the user's oldest membership."""
    membership = Membership.objects.filter(user=user).select_related("team").order_by("created_at", "id").first()
    return membership.team if membership else None


def role_in(user: AbstractBaseUser, team: Team | int) -> str | None:
    team_id = team.pk if isinstance(team, Team) else team
    membership = Membership.objects.filter(user=user, team_id=team_id).first()
    return membership.role if membership else None


def can_review(user: AbstractBaseUser, team: Team | int) -> bool:
    return role_in(user, team) in REVIEW_ROLES


def admin_teams(user: AbstractBaseUser) -> QuerySet[Team]:
    return Team.objects.filter(memberships__user=user, memberships__role=Role.ADMIN)


def add_member(user: AbstractBaseUser, team: Team, role: str = Role.ANALYST) -> Membership:
    membership, _ = Membership.objects.update_or_create(user=user, team=team, defaults={"role": role})
    return membership


# --- API tokens ------------------------------------------------------------------------------


def hash_token_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _record_token_event(action: str, token: ApiToken, actor: AbstractBaseUser, ip: str | None, detail=None) -> None:
    """A token acts in every team of its owner, so its events are in no one team's chain; the audit
    API shows them to the admins of every team the owner belongs to (audit.api.views)."""
    from audit.services import record

    record(action, actor=actor, object_type="api_token", object_id=token.pk, ip=ip, detail=detail)


def issue_token(
    user: AbstractBaseUser, name: str = "", ip: str | None = None, expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """Create a token; return it and its key. The key is not stored and cannot be shown again."""
    from audit.models import AuditAction

    key = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name[:100], prefix=key[:8], key_sha256=hash_token_key(key), expires_at=expires_at
        )
        detail = {"name": token.name, "expires_at": expires_at.isoformat() if expires_at else None}
        _record_token_event(AuditAction.TOKEN_CREATED, token, user, ip, detail)
    return token, key


def revoke_token(token: ApiToken, by: AbstractBaseUser, ip: str | None = None) -> ApiToken:
    """Revoke at once; the row stays so the audit log can still name it. Revoking twice is a no-op."""
    from audit.models import AuditAction

    with transaction.atomic():
        if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
            _record_token_event(AuditAction.TOKEN_REVOKED, token, by, ip)
    token.refresh_from_db()
    return token


def token_for_key(key: str) -> ApiToken | None:
    """The active token with this key, or None. Compared by hash: the lookup leaks no timing about the key."""
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_sha256=hash_token_key(key), revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )
    stale_touch = token is not None and (
        token.last_used_at is None or now - token.last_used_at > timedelta(seconds=TOKEN_TOUCH_INTERVAL_S)
    )
    if stale_touch:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
