"""Custody events and e-signatures are append-only in the database itself, not only in save().

Every refusal is asserted inside ``transaction.atomic()`` so that PostgreSQL, which aborts the
transaction on an error, rolls back to the savepoint and the test can look at the row again.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, models, transaction

from anagen.clinic.accounts.models import Site
from anagen.clinic.accounts.roles import Role
from anagen.clinic.audit.models import Signature
from anagen.clinic.audit.signatures import signatures_for
from anagen.clinic.patients.services import patient_create
from anagen.clinic.treatment.models import CellProduct, CustodyEvent
from tests.clinic.conftest import make_user
from tests.clinic.treatment_helpers import consented_plan, released_product

#: model, refusal message, a column to tamper with and the value written
CASES = {
    "custody": (CustodyEvent, "custody events are append-only", "reason", "tampered"),
    "signature": (Signature, "signatures are append-only", "record_digest", "0" * 64),
}


@pytest.fixture
def product(staff, patient):
    physician, nurse, lab = (staff[r] for r in (Role.PHYSICIAN, Role.NURSE, Role.LAB_TECHNICIAN))
    return released_product(physician, lab, consented_plan(physician, nurse, patient))


@pytest.fixture
def rows(product):
    return {
        "custody": product.custody.order_by("pk").first(),
        "signature": signatures_for(product).get(),
    }


def _unchanged(model, row, column):
    return getattr(model.objects.get(pk=row.pk), column) == getattr(row, column)


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES)
def test_raw_sql_update_is_refused(case, rows):
    model, message, column, value = CASES[case]
    row = rows[case]
    table, col = (connection.ops.quote_name(n) for n in (model._meta.db_table, column))
    with (
        pytest.raises(IntegrityError, match=message),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"UPDATE {table} SET {col} = %s WHERE id = %s", [value, row.pk])  # noqa: S608
    assert _unchanged(model, row, column)


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES)
def test_raw_sql_delete_is_refused(case, rows):
    model, message, _, _ = CASES[case]
    table = connection.ops.quote_name(model._meta.db_table)
    count = model.objects.count()
    with (
        pytest.raises(IntegrityError, match=message),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608
    assert model.objects.count() == count


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES)
def test_queryset_update_is_refused(case, rows):
    model, message, column, value = CASES[case]
    row = rows[case]
    with pytest.raises(IntegrityError, match=message), transaction.atomic():
        model.objects.filter(pk=row.pk).update(**{column: value})
    assert _unchanged(model, row, column)


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES)
def test_queryset_delete_is_refused(case, rows):
    model, message, _, _ = CASES[case]
    count = model.objects.count()
    with pytest.raises(IntegrityError, match=message), transaction.atomic():
        model.objects.all().delete()
    assert model.objects.count() == count


@pytest.mark.django_db
def test_inserting_is_still_allowed(rows, product):
    # Append-only, not read-only: the services keep adding events.
    event = rows["custody"]
    CustodyEvent.objects.create(product=product, kind="label", actor=event.actor)
    assert product.custody.count() >= 2


@pytest.mark.django_db
def test_no_cascade_can_reach_custody_events(product):
    """Every path to a custody event is PROTECT: deleting its product or actor is refused first."""
    fields = {
        f.name: f.remote_field.on_delete
        for f in CustodyEvent._meta.concrete_fields
        if f.is_relation
    }
    assert fields == {"product": models.PROTECT, "actor": models.PROTECT}
    assert CellProduct._meta.get_field("patient").remote_field.on_delete is models.PROTECT
    with pytest.raises(models.ProtectedError), transaction.atomic():
        CellProduct.objects.filter(pk=product.pk).delete()
    assert product.custody.exists()


@pytest.mark.django_db
def test_no_cascade_can_reach_signatures():
    fields = {
        f.name: f.remote_field.on_delete for f in Signature._meta.concrete_fields if f.is_relation
    }
    assert fields == {"signer": models.PROTECT, "content_type": models.PROTECT}
    # The signed record is a plain id (no GenericRelation), so deleting it cascades to nothing.
    assert not [
        f
        for f in Signature._meta.get_fields()
        if f.auto_created and not f.concrete and f.related_model is not None
    ]


def _fresh_product():
    site = Site.objects.create(code="FLS", name="After flush")
    physician, nurse, lab = (
        make_user(role, site) for role in (Role.PHYSICIAN, Role.NURSE, Role.LAB_TECHNICIAN)
    )
    coordinator = make_user(Role.COORDINATOR, site)
    patient = patient_create(
        actor=coordinator,
        site=site,
        given_name="Flush",
        family_name="Test",
        date_of_birth=datetime.date(1980, 1, 1),
        sex="male",
    )
    return released_product(physician, lab, consented_plan(physician, nurse, patient))


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_tables_and_keeps_the_triggers():
    """``manage.py flush`` (and so the test runner's reset) still works, and leaves the guard on."""
    _fresh_product()
    assert CustodyEvent.objects.exists() and Signature.objects.exists()
    call_command("flush", interactive=False, verbosity=0)
    assert not CustodyEvent.objects.exists() and not Signature.objects.exists()
    product = _fresh_product()
    with (
        pytest.raises(IntegrityError, match="custody events are append-only"),
        transaction.atomic(),
    ):
        product.custody.all().update(reason="tampered")
    with pytest.raises(IntegrityError, match="signatures are append-only"), transaction.atomic():
        signatures_for(product).delete()


# --- history rows ---------------------------------------------------------------------------


def _triggers() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT event_object_table FROM information_schema.triggers")
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.django_db
def test_every_history_table_has_its_triggers():
    from anagen.clinic.common.append_only import history_tables

    tables = history_tables()
    assert len(tables) >= 20 and "treatment_historicalconsent" in tables
    missing = set(tables) - _triggers()
    assert not missing, f"history tables without append-only triggers: {sorted(missing)}"


@pytest.mark.django_db
def test_an_earlier_value_cannot_be_erased_from_history(product):
    """Found by trying it: un-withdrawing a consent and deleting its history went unnoticed."""
    from anagen.clinic.treatment.models import Consent

    consent = Consent.objects.get(plan=product.harvest.plan)
    for sql in (
        'UPDATE "treatment_historicalconsent" SET withdrawn_at = NULL',
        'DELETE FROM "treatment_historicalconsent"',
        "UPDATE \"treatment_historicalcellproduct\" SET status = 'released'",
    ):
        with (
            pytest.raises(IntegrityError, match="history rows are append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    with pytest.raises(IntegrityError), transaction.atomic():
        consent.history.all().delete()
    assert consent.history.count() >= 1


@pytest.mark.django_db
def test_insert_or_replace_cannot_rewrite_an_append_only_row(product):
    """Found by trying it: SQLite's REPLACE deleted the old row without firing DELETE triggers."""
    if connection.vendor != "sqlite":
        pytest.skip("REPLACE is SQLite's; PostgreSQL's ON CONFLICT UPDATE fires the UPDATE trigger")
    event = product.custody.order_by("pk").first()
    for sql in (
        'INSERT OR REPLACE INTO "treatment_custodyevent" '
        'SELECT * FROM "treatment_custodyevent" WHERE id = %s',
        'REPLACE INTO "treatment_historicalcellproduct" '
        'SELECT * FROM "treatment_historicalcellproduct" WHERE history_id = '
        '(SELECT MIN(history_id) FROM "treatment_historicalcellproduct")',
    ):
        with (
            pytest.raises(IntegrityError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk] if "%s" in sql else None)
