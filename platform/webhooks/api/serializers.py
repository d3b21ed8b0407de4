from rest_framework import serializers

from webhooks.models import WebhookDelivery


class WebhookDeliverySerializer(serializers.ModelSerializer):
    url = serializers.CharField(source="endpoint.url", read_only=True)
    endpoint_enabled = serializers.BooleanField(source="endpoint.enabled", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "url",
            "endpoint_enabled",
            "event",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "created_at",
            "last_attempt_at",
            "delivered_at",
        ]
        read_only_fields = fields
