from django.contrib import admin

from webhooks.models import WebhookDelivery, WebhookEndpoint


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ("created_at", "event", "status", "attempts", "last_status_code", "last_error", "delivered_at")
    readonly_fields = fields
    extra = 0
    max_num = 0
    ordering = ["-created_at"]
    show_change_link = True


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Team webhooks are managed here; re-enabling a disabled endpoint resets its failure count."""

    list_display = ("team", "url", "enabled", "consecutive_failures", "disabled_reason", "created_at")
    list_filter = ("enabled", "team")
    readonly_fields = ("consecutive_failures", "created_at")
    fields = ("team", "url", "events", "secret", "enabled", "disabled_reason", "consecutive_failures", "created_at")
    inlines = [DeliveryInline]

    def save_model(self, request, obj, form, change):
        if change and "enabled" in form.changed_data and obj.enabled:
            obj.consecutive_failures = 0
            obj.disabled_reason = ""
        super().save_model(request, obj, form, change)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "endpoint", "event", "status", "attempts", "last_status_code", "last_error")
    list_filter = ("status", "event")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False
