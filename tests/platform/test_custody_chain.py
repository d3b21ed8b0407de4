"""The custody log's hash chain: written with each action, verified by ``verify_audit``, tamper-evident
against the database owner (who can switch the append-only trigger off), and never forked by
concurrent writers."""

from __future__ import annotations

import itertools
import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction

from audit.models import AuditAction, AuditChainHead, AuditEvent
from audit.services import chain_head, export_document, export_json, record
from audit.verify import GENESIS_HASH, entry_hash
from audit.verify import main as verify_main


def verify_audit() -> tuple[bool, str]:
    out = StringIO()
    try:
        call_command("verify_audit", stdout=out)
    except CommandError as exc:
        return False, out.getvalue() + str(exc)
    return True, out.getvalue()


def as_owner(sql: str, params: tuple = ()) -> None:
    """What someone with the database owner's rights can do: switch the trigger off, rewrite, switch it on."""
    with connection.cursor() as cursor:
        # The test's own inserts left deferred foreign-key checks pending; ALTER TABLE needs none.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


@pytest.fixture
def five_events(db, team, alice):
    return [
        record(
            AuditAction.JOB_SUBMITTED,
            actor=alice,
            team=team,
            object_type="job",
            object_id=n,
            sha256="ab" * 32,
            ip="203.0.113.9",
            detail={"n": n},
        )
        for n in range(1, 6)
    ]


def test_each_event_names_its_predecessors_hash_and_the_head_follows(five_events, team):
    stored = list(AuditEvent.objects.filter(chain=f"team:{team.pk}").order_by("seq"))
    assert [e.seq for e in stored] == [1, 2, 3, 4, 5]
    assert stored[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.entry_hash for earlier, later in itertools.pairwise(stored))
    assert all(entry_hash(e.chain_content()) == e.entry_hash for e in stored)
    assert chain_head(team.pk) == {"chain": f"team:{team.pk}", "seq": 5, "entry_hash": stored[-1].entry_hash}
    ok, out = verify_audit()
    assert ok and f"OK team:{team.pk}: 5 events" in out


def test_teams_have_separate_chains_and_events_without_a_team_go_to_the_platform_chain(five_events, other_team, bob):
    record(AuditAction.JOB_SUBMITTED, actor=bob, team=other_team, object_type="job", object_id=9)
    record(AuditAction.TOKEN_CREATED, actor=bob, object_type="api_token", object_id=1)
    assert AuditEvent.objects.get(team=other_team).seq == 1
    assert AuditEvent.objects.get(chain="platform").seq == 1
    assert verify_audit()[0]


def test_content_as_the_database_returns_it_hashes_the_same(db, team, alice):
    """Addresses, unicode and numbers come back from Postgres (inet, jsonb) in the form that was hashed."""
    for ip in ("2001:DB8:0:0::1", "::ffff:192.0.2.1", "198.51.100.7", None):
        record(
            AuditAction.JOB_REVIEWED,
            actor=alice,
            team=team,
            object_type="job",
            object_id=1,
            ip=ip,
            detail={"reason": "Kamera-Original – ü ✓", "score": 0.1, "big": 10**15, "z": [1.5, None, True]},
        )
    ok, out = verify_audit()
    assert ok, out


def test_an_event_rolled_back_with_its_action_leaves_no_link(five_events, team, alice):
    with pytest.raises(RuntimeError), transaction.atomic():
        record(AuditAction.JOB_CANCELLED, actor=alice, team=team, object_type="job", object_id=1)
        raise RuntimeError("the action failed")
    record(AuditAction.JOB_CANCELLED, actor=alice, team=team, object_type="job", object_id=1)
    assert AuditChainHead.objects.get(chain=f"team:{team.pk}").seq == 6
    assert verify_audit()[0]


# --- tampering with the owner's rights ------------------------------------------------------------


def test_editing_one_stored_row_fails_verification_at_exactly_that_row(five_events, team):
    target = five_events[2]
    as_owner("UPDATE audit_auditevent SET actor_name = 'mallory' WHERE id = %s", (target.pk,))
    ok, out = verify_audit()
    assert not ok
    assert f"BROKEN chain team:{team.pk}: broken at seq 3 (event id {target.pk}): content was changed" in out


def test_an_edited_row_whose_hash_was_recomputed_breaks_the_next_link(five_events, team):
    target = five_events[2]
    forged = {**target.chain_content(), "actor_name": "mallory"}
    as_owner(
        "UPDATE audit_auditevent SET actor_name = 'mallory', entry_hash = %s WHERE id = %s",
        (entry_hash(forged), target.pk),
    )
    ok, out = verify_audit()
    assert not ok and f"broken at seq 4 (event id {five_events[3].pk}): prev_hash" in out


def test_a_deleted_row_is_reported_as_a_gap(five_events, team):
    as_owner("DELETE FROM audit_auditevent WHERE id = %s", (five_events[1].pk,))
    ok, out = verify_audit()
    assert not ok
    assert f"broken at seq 3 (event id {five_events[2].pk}): gap: events with seq 2 are missing" in out


def test_deleting_the_last_rows_disagrees_with_the_chain_head(five_events, team):
    as_owner("DELETE FROM audit_auditevent WHERE id IN (%s, %s)", (five_events[3].pk, five_events[4].pk))
    ok, out = verify_audit()
    assert not ok and "the chain head says seq 5" in out and "the last event is seq 3" in out


# --- concurrent writers ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_team_append_one_after_another_without_forking(team, alice):
    """Eight threads, each with its own Postgres connection, record at the same moment and hold their
    transaction open a little: the head row's lock makes them queue, so the chain is 1..8 and verifies."""
    writers, hold_s = 8, 0.05
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def submit(n: int) -> None:
        try:
            start.wait()
            with transaction.atomic():
                record(AuditAction.JOB_SUBMITTED, actor=alice, team=team, object_type="job", object_id=n)
                time.sleep(hold_s)  # the rest of the action's transaction
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(writers)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.monotonic() - began
    assert not errors, errors
    stored = list(AuditEvent.objects.filter(chain=f"team:{team.pk}").order_by("seq"))
    assert [e.seq for e in stored] == list(range(1, writers + 1))
    assert len({e.prev_hash for e in stored}) == writers  # no two events extend the same one
    assert sorted(int(e.object_id) for e in stored) == list(range(writers))
    # They waited for each other: the transactions ran one after another, not side by side.
    assert elapsed >= writers * hold_s
    ok, out = verify_audit()
    assert ok, out


# --- events written before the chain ----------------------------------------------------------------


def migrate_to(*targets: tuple[str, str]):
    """Migrate the test database to ``targets`` (every leaf when none); the apps as of there."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    targets = targets or tuple(executor.loader.graph.leaf_nodes())
    executor.migrate(list(targets))
    return executor.loader.project_state(list(targets)).apps


def events_before_the_chain(alice, team_ids: list) -> None:
    """Events as the first release wrote them (no chain): chained later by migration 0005, under version 1."""
    old_event = migrate_to(("audit", "0003_case_custody_actions")).get_model("audit", "AuditEvent")
    for n, team_id in enumerate(team_ids):
        old_event.objects.create(
            action="job.submitted",
            actor_id=alice.pk,
            actor_name="alice",
            team_id=team_id,
            object_type="job",
            object_id=str(n),
            ip="192.0.2.1",
            detail={"n": n},
        )


@pytest.mark.django_db(transaction=True)
def test_events_written_before_the_chain_existed_are_chained_by_the_migration(team, alice):
    events_before_the_chain(alice, [team.pk, None, team.pk])
    migrate_to()

    assert [(e.chain, e.seq) for e in AuditEvent.objects.filter(object_type="job").order_by("id")] == [
        (f"team:{team.pk}", 1),
        ("platform", 1),
        (f"team:{team.pk}", 2),
    ]
    # New events continue the migrated chains (after the re-hashing's own event), and the trigger is back on.
    record(AuditAction.JOB_SUBMITTED, actor=alice, team=team, object_type="job", object_id=3)
    assert AuditEvent.objects.get(object_id="3").seq == 4
    ok, out = verify_audit()
    assert ok, out
    with pytest.raises(Exception, match="append-only"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")


@pytest.mark.django_db(transaction=True)
def test_version_1_chains_are_verified_then_rehashed_keeping_their_old_hashes_and_saying_so(
    team, alice, tmp_path, capsys
):
    events_before_the_chain(alice, [team.pk, None, team.pk])
    old = migrate_to(("audit", "0009_original_deleted_action"))
    v1_hashes = dict(old.get_model("audit", "AuditEvent").objects.values_list("pk", "entry_hash"))
    v1_head = old.get_model("audit", "AuditChainHead").objects.get(chain=f"team:{team.pk}")
    migrate_to()

    migrated = AuditEvent.objects.exclude(object_type="chain")
    assert {e.pk: e.v1_entry_hash for e in migrated} == v1_hashes
    assert all(e.entry_hash != e.v1_entry_hash and len(e.salt) == 32 for e in migrated)
    marker = AuditEvent.objects.get(chain=f"team:{team.pk}", object_type="chain")
    assert (marker.seq, marker.action, marker.object_id) == (3, "audit.chain_rehashed", f"team:{team.pk}")
    assert marker.detail == {
        "from_version": 1,
        "to_version": 2,
        "v1_head": {"seq": 2, "entry_hash": v1_head.entry_hash},
    }
    assert chain_head(team.pk)["entry_hash"] == marker.entry_hash
    ok, out = verify_audit()
    assert ok and f"OK team:{team.pk}: 3 events" in out and "OK platform: 2 events" in out
    # A third party's export of the first job: its event and the re-hashing in full, the other job redacted.
    export = tmp_path / "custody.json"
    export.write_text(export_json(export_document(team.pk, {("job", "0")}, {"type": "job", "id": 0})))
    assert verify_main([str(export)]) == 0
    assert f"OK chain team:{team.pk}: 3 events (2 in full, 1 redacted links)" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_a_version_1_chain_that_does_not_verify_stops_the_migration_instead_of_being_rehashed(team, alice):
    """Re-hashing an edited chain under version 2 would make the edit verify: the migration refuses it."""
    events_before_the_chain(alice, [team.pk, team.pk])
    migrate_to(("audit", "0009_original_deleted_action"))
    edited = AuditEvent.objects.only("pk").order_by("id").first().pk
    as_owner("UPDATE audit_auditevent SET actor_name = 'mallory' WHERE id = %s", (edited,))
    try:
        with pytest.raises(Exception, match=f"custody chain team:{team.pk} seq 1 .* version 1 hash does not hold"):
            migrate_to()
        # Rolled back as a whole: no event was re-hashed, the edit still shows under version 1.
        with connection.cursor() as cursor:
            columns = [c.name for c in connection.introspection.get_table_description(cursor, "audit_auditevent")]
        assert "v1_entry_hash" not in columns
    finally:
        as_owner("DELETE FROM audit_auditevent")
        AuditChainHead.objects.all().delete()
        migrate_to()
