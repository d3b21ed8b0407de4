"""REST API v1: the webhook delivery log of the teams a user administers (read-only)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from accounts.permissions import IsTeamAdmin
from accounts.services import admin_teams
from webhooks.api.serializers import WebhookDeliverySerializer
from webhooks.models import WebhookDelivery


@extend_schema_view(
    list=extend_schema(summary="Webhook deliveries of the teams you administer", tags=["webhooks"]),
    retrieve=extend_schema(summary="One webhook delivery", tags=["webhooks"]),
)
class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = WebhookDeliverySerializer
    permission_classes = [IsTeamAdmin]
    filterset_fields = ["status", "event", "endpoint"]
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookDelivery.objects.none()
        return WebhookDelivery.objects.select_related("endpoint").filter(
            endpoint__team__in=admin_teams(self.request.user)
        )
