"""Cell products: results, release gates, custody, cryo storage and thaw, aliquots, expiry."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.test import override_settings
from django.utils import timezone

from anagen.clinic.accounts.passwords import PasswordNotConfirmed
from anagen.clinic.audit.signatures import current_signature
from anagen.clinic.treatment import selectors, services
from anagen.clinic.treatment.error_codes import TreatmentErrorCode as Code
from anagen.clinic.treatment.models import (
    CellProduct,
    CustodyEvent,
)
from anagen.identity import parse_product_id
from tests.clinic.conftest import PASSWORD
from tests.clinic.refusals import raises_code, refused
from tests.clinic.treatment_helpers import (
    administer,
    consented_plan,
    harvest,
    released_product,
    second_lab_technician,
)

pytestmark = pytest.mark.django_db


def test_release_gates_refuse_low_viability(team, plan):
    physician, _, lab = team
    product = harvest(physician, plan).products.get()
    services.product_record_results(
        actor=lab,
        product=product,
        processing_ended_at=timezone.now(),
        total_nucleated_cells=10_000_000,
        viable_fraction=Decimal("0.55"),
        volume_ml=Decimal("4"),
    )
    with raises_code(Code.RELEASE_GATES_FAILED):
        services.product_release(
            actor=second_lab_technician(lab), product=product, password=PASSWORD
        )
    product.refresh_from_db()
    assert product.status == "quarantine"


def test_release_needs_lab_technician_and_password(team, plan):
    physician, _, lab = team
    product = harvest(physician, plan).products.get()
    services.product_record_results(
        actor=lab,
        product=product,
        processing_ended_at=timezone.now(),
        total_nucleated_cells=10_000_000,
        viable_fraction=Decimal("0.9"),
        volume_ml=Decimal("4"),
    )
    with pytest.raises(PermissionDenied):
        services.product_release(actor=physician, product=product, password=PASSWORD)
    with pytest.raises(PasswordNotConfirmed):  # the accounts' refusal, not a treatment code
        services.product_release(
            actor=second_lab_technician(lab), product=product, password="wrong"
        )
    product.refresh_from_db()
    assert product.status == "quarantine"


def test_editing_a_released_product_invalidates_its_signature(team, plan):
    physician, nurse, lab = team
    product = released_product(physician, lab, plan)
    CellProduct.objects.filter(pk=product.pk).update(viable_cells=9_999_999)
    product.refresh_from_db()
    assert current_signature(product, "release") is None
    with raises_code(Code.SIGNATURE_INVALID, "scanned_product_code"):
        administer(physician, nurse, plan, product)


def test_custody_events_are_append_only(team, plan):
    physician, _, _ = team
    event = harvest(physician, plan).products.get().custody.get()
    event.reason = "tampered"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    assert CustodyEvent.objects.get().reason.startswith("Specimen")


def test_cryo_store_and_thaw_then_administer(team, plan):
    physician, nurse, lab = team
    product = released_product(physician, lab, plan)
    services.product_store(
        actor=lab,
        product=product,
        freezer="LN2-1",
        rack="A",
        box="3",
        position="7",
        expires_at=timezone.now() + timedelta(days=365),
    )
    product.refresh_from_db()
    assert product.status == "stored" and "LN2-1" in product.location
    services.product_thaw(actor=lab, product=product)
    product.refresh_from_db()
    assert product.expires_at <= timezone.now() + timedelta(hours=4)
    # Session postponed: back to the freezer, then thawed again on the day.
    services.product_store(
        actor=lab,
        product=product,
        freezer="LN2-1",
        rack="A",
        box="3",
        position="7",
        expires_at=timezone.now() + timedelta(days=300),
    )
    services.product_thaw(actor=lab, product=product)
    administer(physician, nurse, plan, product)
    product.refresh_from_db()
    assert list(product.custody.filter(kind="status").values_list("to_status", flat=True)) == [
        "quarantine",
        "released",
        "stored",
        "thawed",
        "stored",
        "thawed",
        "administered",
    ]


def test_aliquots_keep_the_chain_of_identity(team, plan):
    physician, nurse, lab = team
    product = harvest(physician, plan).products.get()
    services.product_record_results(
        actor=lab,
        product=product,
        processing_ended_at=timezone.now(),
        total_nucleated_cells=24_000_000,
        viable_fraction=Decimal("0.9"),
        viable_cells=21_600_000,
        volume_ml=Decimal("6"),
    )
    with raises_code(Code.OVER_VOLUME, "volumes_ml"):
        services.product_split(actor=lab, product=product, volumes_ml=[Decimal("4"), Decimal("4")])
    first, second = services.product_split(
        actor=lab, product=product, volumes_ml=[Decimal("2"), Decimal("2")]
    )
    product.refresh_from_db()
    assert product.volume_ml == Decimal("2") and product.viable_cells == 7_200_000
    assert (
        first.parent == product and first.viable_cells == 7_200_000 and first.status == "quarantine"
    )
    assert parse_product_id(second.product_code).donation.text == product.harvest.donation_code
    assert first.patient == second.patient == plan.patient
    released = services.product_release(
        actor=second_lab_technician(lab), product=first, password=PASSWORD
    )
    administer(physician, nurse, plan, released)
    services.product_split(actor=lab, product=product, volumes_ml=[Decimal("2")])
    product.refresh_from_db()
    assert product.status == "discarded"  # fully divided


def test_processing_that_ends_after_expiry_is_refused(team, patient):
    physician, nurse, lab = team
    plan = consented_plan(physician, nurse, patient)
    product = harvest(physician, plan).products.get()
    refused(
        Code.EXPIRED,
        services.product_record_results,
        actor=lab,
        product=product,
        processing_ended_at=timezone.now(),
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    product.refresh_from_db()
    assert (
        product.status == CellProduct.Status.IN_PROCESSING and product.processing_ended_at is None
    )
    # And the release gate says so if the times were ever stored that way.
    CellProduct.objects.filter(pk=product.pk).update(
        processing_ended_at=product.expires_at + timedelta(hours=1)
    )
    product.refresh_from_db()
    gates = {name: ok for name, ok, _ in selectors.release_gates(product)}
    assert gates["processed before expiry"] is False


def test_storing_with_an_expiry_in_the_past_is_refused(team, patient):
    physician, nurse, lab = team
    product = released_product(physician, lab, consented_plan(physician, nurse, patient))
    refused(
        Code.EXPIRED,
        services.product_store,
        actor=lab,
        product=product,
        freezer="LN2",
        rack="A",
        box="1",
        position="1",
        expires_at=timezone.now() - timedelta(days=1),
    )
    product.refresh_from_db()
    assert product.status == CellProduct.Status.RELEASED and not product.freezer


def test_a_thaw_window_of_zero_hours_is_refused_by_the_service(team, patient):
    physician, nurse, lab = team
    product = released_product(physician, lab, consented_plan(physician, nurse, patient))
    services.product_store(
        actor=lab,
        product=product,
        freezer="LN2",
        rack="A",
        box="1",
        position="1",
        expires_at=timezone.now() + timedelta(days=30),
    )
    for hours in (0, -3, 25):
        with raises_code(Code.THAW_WINDOW, "use_within_hours"):
            services.product_thaw(actor=lab, product=product, use_within_hours=hours)
    product.refresh_from_db()
    assert product.status == CellProduct.Status.STORED


def test_the_recorder_of_results_cannot_release(team, patient):
    physician, nurse, lab = team
    plan = consented_plan(physician, nurse, patient)
    product = harvest(physician, plan).products.get()
    services.product_record_results(
        actor=lab,
        product=product,
        processing_ended_at=timezone.now() - timedelta(minutes=5),
        total_nucleated_cells=10_000_000,
        viable_fraction=Decimal("0.9"),
        viable_cells=9_000_000,
        volume_ml=Decimal("4"),
        qc_sterility="pass",
        qc_endotoxin="pass",
    )
    refused(Code.FOUR_EYES, services.product_release, actor=lab, product=product, password=PASSWORD)
    product.refresh_from_db()
    assert product.status == CellProduct.Status.QUARANTINE
    with override_settings(ANAGEN_RELEASE_FOUR_EYES=False):  # documented single-technician lab
        services.product_release(actor=lab, product=product, password=PASSWORD)
    product.refresh_from_db()
    assert product.status == CellProduct.Status.RELEASED


def test_aliquot_limits_are_the_services(team, patient):
    physician, nurse, lab = team
    product = harvest(physician, consented_plan(physician, nurse, patient)).products.get()
    services.product_record_results(
        actor=lab,
        product=product,
        processing_ended_at=timezone.now() - timedelta(minutes=5),
        total_nucleated_cells=10_000_000,
        viable_fraction=Decimal("0.9"),
        viable_cells=9_000_000,
        volume_ml=Decimal("30"),
    )
    with raises_code(Code.TOO_MANY_ALIQUOTS, "volumes_ml"):
        services.product_split(actor=lab, product=product, volumes_ml=[Decimal("1")] * 21)
    assert not CellProduct.objects.filter(parent=product).exists()


def test_an_expired_product_cannot_be_cryopreserved(team, patient):
    physician, nurse, lab = team
    product = released_product(physician, lab, consented_plan(physician, nurse, patient))
    CellProduct.objects.filter(pk=product.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    refused(
        Code.EXPIRED,
        services.product_store,
        actor=lab,
        product=product,
        freezer="LN2",
        rack="A",
        box="1",
        position="9",
        expires_at=timezone.now() + timedelta(days=300),
    )
    product.refresh_from_db()
    assert product.status == CellProduct.Status.RELEASED and product.expires_at < timezone.now()
