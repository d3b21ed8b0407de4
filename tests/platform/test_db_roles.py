"""The API and the workers connect as a role that reads and writes rows and nothing more (issue 12, hole 8).

``manage.py grant_app_role`` is applied to a throwaway role on the test database; the role then
connects on its own (psycopg2) and tries each statement an attacker holding its credentials would:
every one must fail with Postgres's permission error (42501), not the audit trigger's exception.
The application's own code (the API editing a case, the custody log appending under its row lock)
runs as the same role and works.
"""

from __future__ import annotations

import secrets
from io import StringIO

import psycopg2
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from psycopg2 import errorcodes, sql

from audit.models import AuditAction, AuditEvent
from audit.services import record

pytestmark = pytest.mark.django_db(transaction=True)

FORBIDDEN = {
    "truncate the custody log": "TRUNCATE audit_auditevent",
    "truncate with cascade": "TRUNCATE audit_auditevent CASCADE",
    "update an audit event": "UPDATE audit_auditevent SET detail = '{}'",
    "delete an audit event": "DELETE FROM audit_auditevent",
    "drop the append-only trigger": "DROP TRIGGER audit_event_append_only ON audit_auditevent",
    "disable the trigger": "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only",
    "replace the trigger function": (
        "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ "
        "LANGUAGE plpgsql"
    ),
    "alter a table": "ALTER TABLE cases_case ADD COLUMN pwned int",
    "create a table": "CREATE TABLE pwned (id int)",
    "drop a table": "DROP TABLE cases_case",
    "truncate an application table": "TRUNCATE cases_case CASCADE",
    "delete a chain head": "DELETE FROM audit_auditchainhead",
    "rewrite the migration history": "DELETE FROM django_migrations",
    "create a role": "CREATE ROLE pwned SUPERUSER",
}


@pytest.fixture
def app_role(monkeypatch):
    role, password = f"app_role_test_{secrets.token_hex(4)}", secrets.token_urlsafe(18)
    monkeypatch.setenv("POSTGRES_APP_PASSWORD", password)
    out = StringIO()
    call_command("grant_app_role", role, stdout=out)
    assert "no DDL" in out.getvalue()
    try:
        yield role, password
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
            cursor.execute(
                sql.SQL("DROP OWNED BY {0}; DROP ROLE {0}").format(sql.Identifier(role)).as_string(cursor.cursor)
            )


def connect_as(role: str, password: str):
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, dbname=db["NAME"], user=role, password=password
    )
    conn.autocommit = True
    return conn


@pytest.fixture
def audited_case(case, alice):
    record(AuditAction.CASE_CREATED, actor=alice, team=case.team, object_type="case", object_id=case.pk)
    return case


def test_the_role_has_no_superuser_power_and_owns_nothing(app_role):
    role, password = app_role
    with connect_as(role, password) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = %s", [role]
        )
        assert cursor.fetchone() == (False, False, False, False)
        cursor.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = %s)", [role]
        )
        assert cursor.fetchone() == (0,)


@pytest.mark.parametrize("statement", list(FORBIDDEN.values()), ids=list(FORBIDDEN))
def test_each_forbidden_statement_is_refused_by_postgres_permissions(app_role, audited_case, statement):
    role, password = app_role
    conn = connect_as(role, password)
    try:
        with conn.cursor() as cursor, pytest.raises(psycopg2.Error) as refused:
            cursor.execute(statement)
        # Permission denied, not the trigger's exception (P0001) or success.
        assert refused.value.pgcode == errorcodes.INSUFFICIENT_PRIVILEGE, (refused.value.pgcode, str(refused.value))
    finally:
        conn.close()
    assert AuditEvent.objects.filter(object_type="case", object_id=str(audited_case.pk)).count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_event_append_only' AND tgenabled = 'O'")
        assert cursor.fetchone() == (1,)


def test_the_role_reads_and_writes_the_applications_rows(app_role, audited_case):
    role, password = app_role
    conn = connect_as(role, password)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM audit_auditevent")
            assert cursor.fetchone() == (1,)
            cursor.execute("UPDATE cases_case SET notes = 'checked' WHERE id = %s", [audited_case.pk])
            assert cursor.rowcount == 1
    finally:
        conn.close()


def test_the_application_works_as_the_role_custody_log_included(app_role, audited_case, alice_client):
    role, _ = app_role
    with connection.cursor() as cursor:
        # The test's own connection, switched to the role: the API and the audit code run with its privileges.
        cursor.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)).as_string(cursor.cursor))
        cursor.execute("SELECT current_user")
        assert cursor.fetchone() == (role,)
    try:
        response = alice_client.patch(f"/api/v1/cases/{audited_case.pk}/", {"title": "Renamed"}, format="json")
        assert response.status_code == 200, response.content
        created = alice_client.post("/api/v1/cases/", {"title": "Opened as the app role"}, format="json")
        assert created.status_code == 201, created.content
        actions = list(AuditEvent.objects.filter(object_type="case").order_by("id").values_list("action", flat=True))
        out = StringIO()
        call_command("verify_audit", stdout=out)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert actions == [AuditAction.CASE_CREATED, AuditAction.CASE_UPDATED, AuditAction.CASE_CREATED]
