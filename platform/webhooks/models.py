"""Per-team webhook endpoints (managed in the admin) and the log of every delivery to them."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import models

from accounts.models import Team, TeamScopedQuerySet


class WebhookEvent(models.TextChoices):
    JOB_FINISHED = "job.finished", "A job ended (succeeded, failed or cancelled)"
    JOB_REVIEWED = "job.reviewed", "A job was reviewed"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookEndpointQuerySet(TeamScopedQuerySet):
    team_path = "team"


class WebhookEndpoint(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500, help_text="http(s) URL; private and loopback addresses are refused")
    # Shared with the receiver, which recomputes the signature (webhooks.signing) to trust a delivery.
    secret = models.CharField(max_length=64, default=new_secret)
    events = models.JSONField(default=list, blank=True, help_text="event names; empty means every event")
    enabled = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        ordering = ["team", "id"]

    def __str__(self) -> str:
        return f"{self.team} → {self.url}"

    def clean(self) -> None:
        from webhooks.targets import UnsafeTarget, check_target

        unknown = set(self.events or []) - set(WebhookEvent.values)
        if unknown:
            raise ValidationError({"events": f"unknown events: {', '.join(sorted(unknown))}"})
        try:
            check_target(self.url)
        except UnsafeTarget as exc:
            raise ValidationError({"url": str(exc)}) from exc

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RETRYING = "retrying", "Retrying"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped (endpoint disabled)"


class WebhookDeliveryQuerySet(TeamScopedQuerySet):
    team_path = "endpoint__team"


class WebhookDelivery(models.Model):
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=32, choices=WebhookEvent.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint.url}: {self.status}"
