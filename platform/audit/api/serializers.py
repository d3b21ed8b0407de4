from rest_framework import serializers

from audit.models import EVIDENCE_READ_ACTIONS, AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    is_read = serializers.SerializerMethodField(
        help_text="A read of evidence (original played, crops or heatmaps shown, report opened), recorded once per "
        "person, object and kind of read every 10 minutes; the others are the substantive events."
    )

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "is_read",
            "created_at",
            "actor_name",
            "action",
            "team",
            "object_type",
            "object_id",
            "sha256",
            "ip",
            "detail",
            "chain",
            "seq",
            "prev_hash",
            "entry_hash",
        ]
        read_only_fields = fields

    def get_is_read(self, event: AuditEvent) -> bool:
        return event.action in EVIDENCE_READ_ACTIONS


class ChainLinkSerializer(serializers.Serializer):
    """One link of a custody chain: quoting it (in a report, a letter) pins the log up to there."""

    chain = serializers.CharField(help_text="team:<id>, or platform for events of no team")
    seq = serializers.IntegerField(help_text="position in the chain (0: the chain is empty)")
    entry_hash = serializers.CharField(help_text="sha256 of the event at seq (audit.verify)")


class CustodyLogSerializer(serializers.Serializer):
    """A case's or job's custody events (newest first) and the current head of its team's chain."""

    head = ChainLinkSerializer()
    events = AuditEventSerializer(many=True)
