"""Teams and roles: who may see and change which cases; API tokens (hashes only, revocable)."""

from django.contrib import admin

from accounts.models import ApiToken, Membership, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "original_retention_days", "created_at")
    inlines = [MembershipInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "prefix", "key_sha256", "created_at", "last_used_at")
    search_fields = ("user__username", "prefix", "name")

    def has_add_permission(self, request):
        return False
