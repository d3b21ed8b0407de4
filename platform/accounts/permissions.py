"""Role checks on objects that belong to a team (the queryset already hid other teams' objects)."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from accounts.services import admin_teams, can_review


class IsTeamReviewer(BasePermission):
    """Reviewers and admins of the object's team; analysts get 403."""

    message = "Only a reviewer or an admin of this team may review a job."

    def has_object_permission(self, request, view, obj) -> bool:
        return can_review(request.user, view.team_of(obj))


class IsTeamAdmin(BasePermission):
    """Admins of at least one team (what they then see is scoped to those teams)."""

    message = "Only a team admin may read the audit log."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and admin_teams(request.user).exists())
