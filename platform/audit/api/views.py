"""REST API v1: the custody log of the teams a user administers (read-only)."""

from __future__ import annotations

from django.db.models import Q
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from accounts.permissions import IsTeamAdmin
from accounts.services import admin_teams
from audit.api.serializers import AuditEventSerializer
from audit.models import AuditEvent


@extend_schema_view(
    list=extend_schema(summary="Custody log of the teams you administer", tags=["audit"]),
    retrieve=extend_schema(summary="One custody event", tags=["audit"]),
)
class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = AuditEventSerializer
    permission_classes = [IsTeamAdmin]
    filterset_fields = ["action", "object_type", "object_id", "sha256"]
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        teams = admin_teams(self.request.user)
        # Token events belong to no team (a token acts in all its owner's teams): each of those teams' admins sees them.
        members_tokens = Q(team__isnull=True, object_type="api_token", actor__memberships__team__in=teams)
        return AuditEvent.objects.filter(Q(team__in=teams) | members_tokens).distinct()
