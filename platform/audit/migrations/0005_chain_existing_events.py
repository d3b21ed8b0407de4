"""Chain the events written before the hash chain existed, in the order they were written (by id).

The append-only trigger is switched off for these updates only (a migration runs as the table's
owner, inside one transaction, so no other writer sees it off).
"""

from django.db import migrations

from audit.chain_v1 import entry_hash
from audit.verify import GENESIS_HASH, format_timestamp


def chain_existing_events(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
    heads: dict[str, tuple[int, str]] = {}
    for event in AuditEvent.objects.order_by("id").iterator():
        chain = f"team:{event.team_id}" if event.team_id is not None else "platform"
        seq, prev = heads.get(chain, (0, GENESIS_HASH))
        content = {
            "chain": chain,
            "seq": seq + 1,
            "prev_hash": prev,
            "created_at": format_timestamp(event.created_at),
            "actor_id": event.actor_id,
            "actor_name": event.actor_name,
            "action": event.action,
            "team_id": event.team_id,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "sha256": event.sha256,
            "ip": event.ip,
            "detail": event.detail,
        }
        digest = entry_hash(content)
        AuditEvent.objects.filter(pk=event.pk).update(chain=chain, seq=seq + 1, prev_hash=prev, entry_hash=digest)
        heads[chain] = (seq + 1, digest)
    AuditChainHead.objects.bulk_create(
        [AuditChainHead(chain=chain, seq=seq, entry_hash=digest) for chain, (seq, digest) in heads.items()]
    )
    if postgres:
        # ALTER TABLE refuses while deferred foreign-key checks of the updates are pending.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_chain_fields")]

    # Not reversible: un-chaining would need the same trigger switch for nothing gained.
    operations = [migrations.RunPython(chain_existing_events, migrations.RunPython.noop)]
