from django.contrib import admin

from cases.models import AnalysisJob, Case, Media, Verdict


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("title", "team", "created_by", "updated_at")
    list_filter = ("team",)
    search_fields = ("title", "notes")


@admin.register(Media)
class MediaAdmin(admin.ModelAdmin):
    list_display = ("original_name", "case", "kind", "sha256", "size_bytes", "created_at")
    search_fields = ("original_name", "sha256")
    readonly_fields = ("sha256", "storage_path", "size_bytes", "mime_type")


@admin.register(AnalysisJob)
class AnalysisJobAdmin(admin.ModelAdmin):
    list_display = ("id", "media", "state", "stage", "progress", "attempts", "worker", "created_at")
    list_filter = ("state", "stage")


@admin.register(Verdict)
class VerdictAdmin(admin.ModelAdmin):
    list_display = ("job", "label", "score", "confidence", "untrained")
    list_filter = ("label",)
