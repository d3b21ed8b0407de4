"""``manage.py grant_app_role ROLE``: the database role the API and the workers connect as.

Run by the schema's owner after every ``migrate`` (docker-compose.yml's one-shot migrate service).
The role is created if missing (password from $POSTGRES_APP_PASSWORD, when set) and left able to do
only what the application does: read and write the application's rows. It owns nothing, so it cannot
ALTER, DROP or TRUNCATE a table, drop the audit trigger or create anything; the custody log is
SELECT and INSERT only (its chain heads also UPDATE, under SELECT ... FOR UPDATE); the migration
history is read-only. Idempotent: every run revokes what the role held and grants the list again.
"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg2 import sql

from config.env import refuse_placeholder

# Everything else (the application's tables) gets SELECT, INSERT, UPDATE, DELETE; these get less.
RESTRICTED = {
    "audit_auditevent": "SELECT, INSERT",
    "audit_auditchainhead": "SELECT, INSERT, UPDATE",
    "django_migrations": "SELECT",
}
ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT"


def statements(role: str, database: str, password: str | None) -> list[sql.Composable]:
    r, db = sql.Identifier(role), sql.Identifier(database)
    # CREATE ROLE has no IF NOT EXISTS; a concurrent run creating it too is also fine.
    create = sql.SQL(
        "DO $$ BEGIN CREATE ROLE {} " + ATTRIBUTES + "; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    ).format(r)
    out: list[sql.Composable] = [create, sql.SQL("ALTER ROLE {} " + ATTRIBUTES).format(r)]
    if password:
        out.append(sql.SQL("ALTER ROLE {} PASSWORD {}").format(r, sql.Literal(password)))
    out += [
        # No CREATE in the schema for anyone but its owner (Postgres 15's default; older ones granted it).
        sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"),
        sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(db, r),
        sql.SQL("REVOKE ALL ON SCHEMA public FROM {}").format(r),
        sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(r),
        sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {}").format(r),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, r),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(r),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(r),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(r),
    ]
    for table, privileges in RESTRICTED.items():
        t = sql.Identifier(table)
        out += [
            sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(t, r),
            sql.SQL("GRANT " + privileges + " ON TABLE {} TO {}").format(t, r),
        ]
    return out


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument("role", help="the role the API and the workers connect as (created if missing)")
        parser.add_argument(
            "--password-env",
            default="POSTGRES_APP_PASSWORD",
            help="environment variable holding the role's password; unset: the password is left as it is",
        )

    def handle(self, *args, role: str, password_env: str, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("not Postgres (embedded SQLite): no database roles, nothing to grant")
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_database()")
            owner, database = cursor.fetchone()
        if role == owner:
            raise CommandError(f"{role} is the role running the migrations: the application needs a role of its own")
        password = os.environ.get(password_env) or None
        if password is not None:
            refuse_placeholder(password_env, password)
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements(role, database, password):
                cursor.execute(statement.as_string(cursor.cursor))
        self.stdout.write(f"{role}: connects to {database}; rows only, custody log append-only, no DDL, no TRUNCATE")
