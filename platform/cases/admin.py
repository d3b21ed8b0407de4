"""Cases, media, jobs and verdicts in the Django admin: to look at, never to edit.

Changes to evidence go through the API's services, which check the rules and write the custody
log; an admin form would change a verdict or move a case with no trace (the audit log's own admin
is read-only for the same reason).
"""

from django.contrib import admin

from cases.models import AnalysisJob, Case, Media, Verdict


class ViewOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ViewOnlyAdmin):
    list_display = ("title", "team", "created_by", "updated_at")
    list_filter = ("team",)
    search_fields = ("title", "notes")


@admin.register(Media)
class MediaAdmin(ViewOnlyAdmin):
    list_display = ("original_name", "case", "kind", "sha256", "size_bytes", "created_at")
    search_fields = ("original_name", "sha256")


@admin.register(AnalysisJob)
class AnalysisJobAdmin(ViewOnlyAdmin):
    list_display = ("id", "media", "state", "stage", "progress", "attempts", "worker", "created_at")
    list_filter = ("state", "stage")


@admin.register(Verdict)
class VerdictAdmin(ViewOnlyAdmin):
    list_display = ("job", "label", "score", "confidence", "untrained")
    list_filter = ("label",)
