"""An installation migrated before ``core`` was dissolved keeps its signatures.

The test rebuilds that installation's layout in the test database (the signature table named
``core_signature``, its old index name and old-named append-only triggers, one signed row), runs
``audit.0001``'s database operations on it and checks that the row, its signature and the
database's refusal of UPDATE and DELETE all survive under the new table name.
"""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.loader import MigrationLoader

from anagen.clinic.accounts.models import Site
from anagen.clinic.accounts.roles import Role
from anagen.clinic.audit.models import Signature
from anagen.clinic.audit.signatures import current_signature, signature_sign
from anagen.clinic.common.append_only import (
    install_history_triggers,
    install_sql,
    uninstall_sql,
)
from anagen.clinic.patients.services import patient_create
from tests.clinic.conftest import PASSWORD, make_user

OLD, NEW = "core_signature", "audit_signature"
OLD_INDEX, NEW_INDEX = "core_signat_content_e7bd32_idx", "audit_signa_content_45d8e8_idx"
MESSAGE = "signatures are append-only"


def _tables() -> set[str]:
    return set(connection.introspection.table_names())


def _triggers() -> dict[str, str]:
    """Trigger name → table."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute(
                "SELECT trigger_name, event_object_table FROM information_schema.triggers"
            )
        return dict(cursor.fetchall())


def _index_names(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


def _rename(editor, old_table: str, new_table: str, old_index: str, new_index: str) -> None:
    """Move the signature table (and its triggers and index) from one name to the other."""
    for sql in uninstall_sql(connection.vendor, old_table):
        editor.execute(sql, params=None)
    editor.alter_db_table(Signature, old_table, new_table)
    quote = connection.ops.quote_name
    if connection.vendor == "sqlite":  # no RENAME INDEX in SQLite
        editor.execute(f"DROP INDEX {quote(old_index)}", params=None)
        editor.execute(
            f"CREATE INDEX {quote(new_index)} ON {quote(new_table)} (content_type_id, object_id)",
            params=None,
        )
    else:
        editor.execute(f"ALTER INDEX {quote(old_index)} RENAME TO {quote(new_index)}", params=None)
    for sql in install_sql(connection.vendor, new_table, MESSAGE):
        editor.execute(sql, params=None)


def _signed_row() -> Signature:
    site = Site.objects.create(code="OLD", name="Migrated before the move")
    physician = make_user(Role.PHYSICIAN, site)
    patient = patient_create(
        actor=make_user(Role.COORDINATOR, site),
        site=site,
        given_name="Adopted",
        family_name="Row",
        date_of_birth=datetime.date(1970, 1, 1),
        sex="female",
    )
    signature_sign(
        actor=physician, record=patient, meaning=Signature.Meaning.VERIFY, password=PASSWORD
    )
    return Signature.objects.get()


@pytest.mark.django_db(transaction=True)
def test_an_old_layout_signature_table_is_adopted_with_its_row_and_triggers():
    signature = _signed_row()
    with connection.schema_editor() as editor:
        _rename(editor, NEW, OLD, NEW_INDEX, OLD_INDEX)
    try:
        assert OLD in _tables() and NEW not in _tables()
        assert OLD in set(_triggers().values())

        migration = importlib.import_module("anagen.clinic.audit.migrations.0001_initial")
        apps = MigrationLoader(connection).project_state(("audit", "0001_initial")).apps
        _, adopt, triggers = migration.Migration.operations
        with connection.schema_editor() as editor:
            adopt.code(apps, editor)
            triggers.code(apps, editor)
        install_history_triggers()  # post_migrate: on SQLite also the REPLACE guard
    finally:
        if OLD in _tables():  # the adoption failed: leave the database as the other tests need it
            with connection.schema_editor() as editor:
                _rename(editor, OLD, NEW, OLD_INDEX, NEW_INDEX)

    assert OLD not in _tables() and NEW in _tables()
    assert NEW_INDEX in _index_names(NEW) and OLD_INDEX not in _index_names(NEW)
    triggers_now = _triggers()
    assert NEW in triggers_now.values()
    assert not [name for name in triggers_now if name.startswith(OLD)]
    adopted = Signature.objects.get()
    assert (adopted.pk, adopted.record_digest, adopted.signed_at) == (
        signature.pk,
        signature.record_digest,
        signature.signed_at,
    )
    assert current_signature(adopted.record, Signature.Meaning.VERIFY) == adopted
    table = connection.ops.quote_name(NEW)
    for sql in (f"UPDATE {table} SET signer_name = 'x'", f"DELETE FROM {table}"):  # noqa: S608
        with (
            pytest.raises(IntegrityError, match=MESSAGE),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert Signature.objects.count() == 1
