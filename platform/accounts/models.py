"""Teams own cases; a user's membership gives them a role in that team."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class TeamScopedQuerySet(models.QuerySet):
    """Rows that belong to a team; ``for_user`` keeps those of the teams a user is a member of.

    ``team_path`` is the lookup from the model to its Team ("" for Team itself); every
    team-scoped queryset in the API is built from ``for_user``, so the rule is written once.
    """

    team_path = ""

    def for_user(self, user) -> TeamScopedQuerySet:
        prefix = f"{self.team_path}__" if self.team_path else ""
        return self.filter(**{f"{prefix}memberships__user": user})


class Team(models.Model):
    name = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Retention of originals (cases.retention): None keeps them; N deletes an original N days after its
    # last analysis ended (0: as soon as it ended). Results, hashes and the custody log are always kept.
    original_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Delete originals this many days after their last analysis ended (0: right away); "
        "empty: keep them. Results, hashes and the custody log are kept.",
    )

    objects = TeamScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ANALYST = "analyst", "Analyst"
    REVIEWER = "reviewer", "Reviewer"
    ADMIN = "admin", "Admin"


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ANALYST)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="one_membership_per_team")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} as {self.role}"


class ApiToken(models.Model):
    """A personal API token. Only its sha256 is stored: the key is shown once, when it is created.

    Revoking keeps the row (with ``revoked_at``) so the audit log can still name the token.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    # The first characters of the key, enough for a person to tell their tokens apart; not a secret.
    prefix = models.CharField(max_length=8)
    key_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Refused from this moment on; None: until revoked.
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
