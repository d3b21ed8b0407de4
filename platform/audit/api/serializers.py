from rest_framework import serializers

from audit.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor_name",
            "action",
            "team",
            "object_type",
            "object_id",
            "sha256",
            "ip",
            "detail",
        ]
        read_only_fields = fields
