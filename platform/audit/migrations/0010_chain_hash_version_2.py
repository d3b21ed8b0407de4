"""Hash version 2 (issue 28): every link recomputable without its content.

Each chain is first verified under version 1 with the content the database holds; a chain that does
not verify stops the migration (re-hashing it would hide the break: find out what happened with
``manage.py verify_audit`` on the previous release, restore the log from a backup). A chain that does
is re-hashed in place under version 2, each event keeping its version 1 hash (``v1_entry_hash``) and
getting a random salt, and gets one more event, ``audit.chain_rehashed``, that records the version 1
head it replaced (exported in full, so a head quoted under version 1 can be compared with it).

The append-only trigger is switched off for these updates only (a migration runs as the table's
owner, inside one transaction, so no other writer sees it off).
"""

import secrets

from django.db import migrations, models
from django.utils import timezone

from audit import chain_v1
from audit.verify import GENESIS_HASH, HASH_VERSION, entry_hash, format_timestamp

ACTION = "audit.chain_rehashed"


class BrokenChain(Exception):
    """A version 1 chain that does not verify: it is not re-hashed."""


def content_of(event, chain, seq, prev_hash):
    return {
        "chain": chain,
        "seq": seq,
        "prev_hash": prev_hash,
        "salt": event.salt,
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


def rehash_chain(AuditEvent, AuditChainHead, chain):
    v1_prev, v2_prev, seq, team_id = GENESIS_HASH, GENESIS_HASH, 0, None
    for event in AuditEvent.objects.filter(chain=chain).order_by("seq").iterator():
        where = f"custody chain {chain} seq {event.seq} (event id {event.pk})"
        if event.seq != seq + 1:
            raise BrokenChain(f"{where}: expected seq {seq + 1}")
        if event.prev_hash != v1_prev or chain_v1.entry_hash(content_of(event, chain, event.seq, v1_prev)) != (
            event.entry_hash
        ):
            raise BrokenChain(f"{where}: its version 1 hash does not hold")
        event.salt = secrets.token_hex(16)
        v2_hash = entry_hash(content_of(event, chain, event.seq, v2_prev))
        AuditEvent.objects.filter(pk=event.pk).update(
            salt=event.salt, v1_entry_hash=event.entry_hash, prev_hash=v2_prev, entry_hash=v2_hash
        )
        v1_prev, v2_prev, seq, team_id = event.entry_hash, v2_hash, event.seq, event.team_id
    head = AuditChainHead.objects.filter(chain=chain).first()
    if head is None or (head.seq, head.entry_hash) != (seq, v1_prev):
        raise BrokenChain(f"custody chain {chain}: its head row does not name its last event (seq {seq})")
    if seq == 0:
        return
    marker = AuditEvent(
        created_at=timezone.now(),
        action=ACTION,
        team_id=team_id,
        object_type="chain",
        object_id=chain,
        detail={
            "from_version": chain_v1.VERSION,
            "to_version": HASH_VERSION,
            "v1_head": {"seq": seq, "entry_hash": v1_prev},
        },
        salt=secrets.token_hex(16),
    )
    marker.chain, marker.seq, marker.prev_hash = chain, seq + 1, v2_prev
    marker.entry_hash = entry_hash(content_of(marker, chain, seq + 1, v2_prev))
    marker.save(force_insert=True)
    AuditChainHead.objects.filter(chain=chain).update(seq=marker.seq, entry_hash=marker.entry_hash)


def rehash_chains(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    chains = sorted(set(AuditEvent.objects.values_list("chain", flat=True)))
    if not chains:
        return
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
    for chain in chains:
        rehash_chain(AuditEvent, AuditChainHead, chain)
    if postgres:
        # ALTER TABLE refuses while deferred foreign-key checks of the updates are pending.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


class Migration(migrations.Migration):
    dependencies = [("audit", "0009_original_deleted_action")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="salt",
            field=models.CharField(default="", editable=False, max_length=32),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="v1_entry_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("case.created", "Case opened"),
                    ("case.updated", "Case edited"),
                    ("media.uploaded", "Media uploaded"),
                    ("media.downloaded", "Original downloaded"),
                    ("media.viewed", "Original viewed"),
                    ("media.original_deleted", "Original deleted (retention)"),
                    ("artifact.viewed", "Crop or heatmap viewed"),
                    ("job.submitted", "Job submitted"),
                    ("job.cancelled", "Job cancelled"),
                    ("job.retried", "Job retried"),
                    ("job.reviewed", "Job reviewed"),
                    ("report.downloaded", "Report downloaded"),
                    ("report.viewed", "Report viewed"),
                    ("auth.login_failed", "Sign-in failed"),
                    ("token.created", "API token created"),
                    ("token.revoked", "API token revoked"),
                    ("audit.chain_rehashed", "Custody chain re-hashed (new hash version)"),
                ],
                db_index=True,
                max_length=32,
            ),
        ),
        # Not reversible: version 1 cannot be written back without the same trigger switch for nothing gained.
        migrations.RunPython(rehash_chains, migrations.RunPython.noop),
    ]
