"""Database triggers that make a table append-only: UPDATE and DELETE are refused by the database.

The models' own ``save()``/``delete()`` refusals only stop the ORM's single-row paths; a queryset
``update()``/``delete()``, a cascading delete or a raw SQL statement bypasses them. These triggers
stop all of those, whoever sends the statement.

Used by migrations (``audit.0001``, ``treatment.0002``): change nothing here that an applied
migration relies on; add a new function and a new migration instead.

What they do not cover, on purpose (operator actions that erase a whole database, documented in
docs/security.md):

- PostgreSQL ``TRUNCATE`` (row triggers do not fire on it; ``manage.py flush`` uses it);
- on SQLite, ``manage.py flush`` lifts the triggers for the length of its one transaction
  (``common/management/commands/flush.py``), which is what TRUNCATE is on PostgreSQL;
- dropping the trigger or the table, which needs the schema owner's rights.

SQLite rebuilds a table (copy, drop, rename) for many ``ALTER`` operations, and the rebuild drops
its triggers: a later migration that alters these tables on SQLite must install them again. The
raw-SQL tests in tests/clinic/common/test_append_only.py fail if that is forgotten.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

#: Trigger names end with this, so ``flush`` can find them without a registry.
SUFFIX = "_append_only"


def _sqlite_sql(table: str, message: str) -> list[str]:
    # RAISE(ABORT) gives SQLITE_CONSTRAINT: Django raises IntegrityError with the message.
    return [
        f'CREATE TRIGGER "{table}_update{SUFFIX}" BEFORE UPDATE ON "{table}" '
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
        f'CREATE TRIGGER "{table}_delete{SUFFIX}" BEFORE DELETE ON "{table}" '
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
    ]


def _postgresql_sql(table: str, message: str) -> list[str]:
    # SQLSTATE 23000 (integrity_constraint_violation): psycopg and Django raise IntegrityError.
    return [
        f'CREATE OR REPLACE FUNCTION "{table}{SUFFIX}"() RETURNS trigger LANGUAGE plpgsql AS $$ '
        f"BEGIN RAISE EXCEPTION '{message}' USING ERRCODE = '23000'; END $$",
        f'CREATE TRIGGER "{table}{SUFFIX}" BEFORE UPDATE OR DELETE ON "{table}" '
        f'FOR EACH ROW EXECUTE FUNCTION "{table}{SUFFIX}"()',
    ]


def install_sql(vendor: str, table: str, message: str) -> list[str]:
    if "'" in message:
        raise ValueError("the refusal message is inlined into SQL: no quotes")
    if vendor == "sqlite":
        return _sqlite_sql(table, message)
    if vendor == "postgresql":
        return _postgresql_sql(table, message)
    raise NotImplementedError(f"append-only triggers are not written for {vendor}")


def uninstall_sql(vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f'DROP TRIGGER IF EXISTS "{table}_update{SUFFIX}"',
            f'DROP TRIGGER IF EXISTS "{table}_delete{SUFFIX}"',
            f'DROP TRIGGER IF EXISTS "{table}_replace{SUFFIX}"',
        ]
    if vendor == "postgresql":
        return [
            f'DROP TRIGGER IF EXISTS "{table}{SUFFIX}" ON "{table}"',
            f'DROP FUNCTION IF EXISTS "{table}{SUFFIX}"()',
        ]
    raise NotImplementedError(f"append-only triggers are not written for {vendor}")


def migration_operation(table: str, message: str):
    """A reversible ``RunPython`` that installs (or, backwards, removes) the triggers."""
    from django.db import migrations

    def forwards(apps, schema_editor):
        for sql in install_sql(schema_editor.connection.vendor, table, message):
            schema_editor.execute(sql, params=None)

    def backwards(apps, schema_editor):
        for sql in uninstall_sql(schema_editor.connection.vendor, table):
            schema_editor.execute(sql, params=None)

    return migrations.RunPython(forwards, backwards, elidable=False)


#: The refusal raised for a change to a history row (simple_history's "historical…" tables).
HISTORY_MESSAGE = "history rows are append-only: the audit trail keeps every earlier value"


def history_tables() -> list[str]:
    """Every table of django-simple-history rows (record versions and their many-to-many sets)."""
    from django.apps import apps

    tables = []
    for model in apps.get_models():
        names = {field.name for field in model._meta.concrete_fields}
        if {"history_id", "m2m_history_id"} & names:
            tables.append(model._meta.db_table)
    return sorted(tables)


def sqlite_replace_guard(table: str, pk: str, message: str) -> str:
    """SQLite's ``INSERT OR REPLACE`` deletes the old row without firing DELETE triggers (unless
    ``recursive_triggers`` is on): refuse any insert whose key already exists. PostgreSQL has no
    REPLACE, and its ``ON CONFLICT DO UPDATE`` fires the UPDATE trigger."""
    # Table and column names come from the models, never from input.
    return (
        f'CREATE TRIGGER "{table}_replace{SUFFIX}" BEFORE INSERT ON "{table}" '  # noqa: S608
        f'WHEN EXISTS (SELECT 1 FROM "{table}" WHERE "{pk}" = NEW."{pk}") '
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )


#: The append-only logs installed by their own migrations: (table, key, message).
LOGS = [
    ("treatment_custodyevent", "id", "custody events are append-only"),
    ("audit_signature", "id", "signatures are append-only"),
    ("review_reviewscore", "id", "review scores are append-only"),
    ("privacy_privacyevent", "id", "the privacy log is append-only"),
]


def install_history_triggers(*, using: str = "default", **_) -> None:
    """(Re)install the append-only triggers on every history table (``post_migrate``).

    Run after every migration rather than from one migration: every new historical model, and
    on SQLite every table rebuild by a later ``ALTER``, would otherwise lose or miss them.
    Idempotent: each trigger is dropped and created again.
    """
    from django.db import connections

    connection = connections[using]
    existing = set(connection.introspection.table_names())
    from django.apps import apps

    keys = {m._meta.db_table: m._meta.pk.column or "id" for m in apps.get_models()}
    tables = [(t, keys[t], HISTORY_MESSAGE) for t in history_tables()] + LOGS
    with connection.cursor() as cursor:
        for table, pk, message in tables:
            if table not in existing:
                continue  # a partial migrate: the table comes later
            statements = uninstall_sql(connection.vendor, table) + install_sql(
                connection.vendor, table, message
            )
            if connection.vendor == "sqlite":
                statements.append(sqlite_replace_guard(table, pk, message))
            for sql in statements:
                cursor.execute(sql)


@contextmanager
def history_rewrite(tables: list[str], *, using: str = "default") -> Iterator[None]:
    """Lift the append-only triggers of these history tables for the current transaction only.

    The one sanctioned rewrite of history is an erasure on a patient's request
    (``privacy.services.patient_erase``), which pseudonymizes the identifying values in the
    patient's old versions and records that it did. It must run inside ``transaction.atomic``:
    the triggers are dropped and installed again in that same transaction, so no other session
    ever sees the table without them (PostgreSQL's DROP TRIGGER locks the table until commit;
    SQLite has one writer), and a failure rolls the drop back with everything else.
    """
    from django.db import connections

    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("history_rewrite must run inside transaction.atomic")
    from django.apps import apps

    keys = {m._meta.db_table: m._meta.pk.column or "id" for m in apps.get_models()}
    allowed = set(history_tables())
    for table in tables:
        if table not in allowed:
            raise ValueError(f"{table} is not a history table")
    with connection.cursor() as cursor:
        for table in tables:
            for sql in uninstall_sql(connection.vendor, table):
                cursor.execute(sql)
    yield
    with connection.cursor() as cursor:
        for table in tables:
            statements = install_sql(connection.vendor, table, HISTORY_MESSAGE)
            if connection.vendor == "sqlite":
                statements.append(sqlite_replace_guard(table, keys[table], HISTORY_MESSAGE))
            for sql in statements:
                cursor.execute(sql)
