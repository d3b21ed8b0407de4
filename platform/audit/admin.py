from django.contrib import admin

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the custody log is never edited, not even by a superuser."""

    list_display = ("created_at", "actor_name", "action", "object_type", "object_id", "sha256", "ip")
    list_filter = ("action",)
    search_fields = ("actor_name", "object_id", "sha256")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
