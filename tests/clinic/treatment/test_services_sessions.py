"""Injection sessions: identity check, two-person check, volume and dose, time order, the schedule."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from anagen.clinic.audit.signatures import current_signature
from anagen.clinic.patients.services import patient_create
from anagen.clinic.treatment import selectors, services
from anagen.clinic.treatment.error_codes import TreatmentErrorCode as Code
from anagen.clinic.treatment.models import (
    CellProduct,
    ScheduledVisit,
    TreatmentSession,
)
from tests.clinic.refusals import raises_code, refused
from tests.clinic.treatment_helpers import (
    administer,
    consented_plan,
    injection_map,
    release_with_volume,
    released_product,
)

pytestmark = pytest.mark.django_db


def test_full_path_to_administration_and_schedule(team, plan):
    physician, nurse, lab = team
    product = released_product(physician, lab, plan)
    assert current_signature(product, "release") is not None
    session = administer(physician, nurse, plan, product)
    product.refresh_from_db()
    assert product.status == "administered"
    assert session.total_cells == 4_000_000 and session.total_volume_ml == Decimal("2.000")
    kinds = list(product.custody.values_list("kind", "to_status"))
    assert kinds[0] == ("created", "in_processing") and kinds[-1] == ("status", "administered")
    visits = ScheduledVisit.objects.filter(plan=plan)
    assert sorted(v.label for v in visits if v.kind == "follow_up") == sorted(
        f"Day {d}" for d in (14, 30, 60, 90, 180, 365)
    )
    assert [v.label for v in visits if v.kind == "repeat_session"] == ["Session 2", "Session 3"]
    day14 = visits.get(label="Day 14")
    assert day14.due_on == timezone.localtime(session.started_at).date() + timedelta(days=14)


def test_wrong_check_character_is_refused(team, plan):
    physician, nurse, lab = team
    product = released_product(physician, lab, plan)
    code = product.product_code
    wrong = code[:13] + ("A" if code[13] != "A" else "B") + code[14:]
    with raises_code(Code.INVALID_IDENTIFIER, "scanned_product_code"):
        administer(physician, nurse, plan, product, scanned_product_code=wrong)
    product.refresh_from_db()
    assert product.status == "released" and not TreatmentSession.objects.exists()


def test_another_patients_product_is_refused(team, plan, site, coordinator):
    physician, nurse, lab = team
    from datetime import date

    other = patient_create(
        actor=coordinator,
        site=site,
        given_name="Bo",
        family_name="Rook",
        date_of_birth=date(1970, 1, 1),
        sex="male",
    )
    other_plan = consented_plan(physician, nurse, other)
    theirs = released_product(physician, lab, other_plan)
    with raises_code(Code.WRONG_PATIENT, "scanned_product_code"):
        administer(physician, nurse, plan, theirs)
    with raises_code(Code.MRN_MISMATCH, "scanned_mrn"):
        administer(physician, nurse, plan, theirs, scanned_mrn=other.mrn)
    theirs.refresh_from_db()
    assert theirs.status == "released" and not TreatmentSession.objects.exists()


def test_expired_product_is_refused(team, plan):
    physician, nurse, lab = team
    product = released_product(physician, lab, plan)
    CellProduct.objects.filter(pk=product.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    with raises_code(Code.EXPIRED, "scanned_product_code"):
        administer(physician, nurse, plan, product)
    assert services.products_expire_due(actor=lab) == 1
    product.refresh_from_db()
    assert product.status == "expired"


def test_double_submission_is_refused(team, plan):
    physician, nurse, lab = team
    product = released_product(physician, lab, plan)
    session = administer(physician, nurse, plan, product, submission_token="tok-1")
    with raises_code(Code.ALREADY_RECORDED):
        administer(physician, nurse, plan, product, submission_token="tok-1")
    with raises_code(Code.ALREADY_ADMINISTERED, "scanned_product_code"):
        administer(physician, nurse, plan, product, submission_token="tok-2")
    assert TreatmentSession.objects.get() == session
    assert product.custody.filter(to_status="administered").count() == 1


def test_two_person_check(team, plan):
    physician, nurse, lab = team
    product = released_product(physician, lab, plan)
    with raises_code(Code.VERIFIER_IS_ADMINISTRATOR, "verifier"):
        administer(physician, nurse, plan, product, verifier=physician)
    with raises_code(Code.VERIFIER_PASSWORD, "verifier_password"):
        administer(physician, nurse, plan, product, verifier_password="nope")
    with raises_code(Code.VERIFIER_ROLE, "verifier"):
        administer(physician, nurse, plan, product, verifier=lab)
    product.refresh_from_db()
    assert product.status == "released"


def test_more_volume_than_the_product_holds_is_refused(team, patient):
    physician, nurse, lab = team
    plan = consented_plan(physician, nurse, patient)
    product = release_with_volume(physician, lab, plan, volume="5.00", cells=9_000_000)
    error = refused(  # 110 × 0.05 mL = 5.50 mL
        Code.OVER_VOLUME,
        administer,
        physician,
        nurse,
        plan,
        product,
        zones=injection_map(110, "0.05", 50_000),
    )
    assert "5.50 mL" in str(error) and "5.00 mL" in str(error)
    product.refresh_from_db()
    assert product.status == CellProduct.Status.RELEASED and not TreatmentSession.objects.exists()


def test_more_cells_than_viable_is_refused(team, patient):
    physician, nurse, lab = team
    plan = consented_plan(physician, nurse, patient)
    product = release_with_volume(physician, lab, plan, volume="5.00", cells=6_000_000)
    refused(
        Code.OVER_CELLS,
        administer,
        physician,
        nurse,
        plan,
        product,
        zones=injection_map(50, "0.05", 130_000),
    )
    assert not TreatmentSession.objects.exists()


def test_partial_use_records_the_residual_volume(team, patient):
    physician, nurse, lab = team
    plan = consented_plan(physician, nurse, patient)
    product = release_with_volume(physician, lab, plan, volume="5.00", cells=9_000_000)
    session = administer(physician, nurse, plan, product, zones=injection_map(60, "0.05", 100_000))
    assert session.total_volume_ml == Decimal("3.00")
    last = product.custody.order_by("-pk").first()
    assert "3.00 mL used, 2.00 mL left unused" in last.reason


def test_a_dose_above_the_plan_is_administered_with_a_warning(client, team, patient):
    physician, nurse, lab = team
    plan = consented_plan(physician, nurse, patient)
    assert plan.planned_dose_cells == 5_000_000
    product = release_with_volume(physician, lab, plan, volume="5.00", cells=12_000_000)
    session = administer(physician, nurse, plan, product, zones=injection_map(100, "0.04", 110_000))
    assert session.total_cells == 11_000_000
    warning = selectors.dose_warning(plan=plan, total_cells=session.total_cells)
    assert warning and "planned dose of 5,000,000" in warning
    client.force_login(physician)
    page = client.get(reverse("treatment:session", args=[session.pk])).content.decode()
    assert "above the planned dose" in page


def test_no_session_back_dated_before_the_consent_or_the_thaw(team, patient):
    """Found by trying it: sessions dated into a withdrawn period or while the cells were frozen."""
    physician, nurse, lab = team
    plan = consented_plan(physician, nurse, patient)
    product = released_product(physician, lab, plan)
    services.product_store(
        actor=lab,
        product=product,
        freezer="LN2",
        rack="A",
        box="1",
        position="3",
        expires_at=timezone.now() + timedelta(days=30),
    )
    # The thaw is recorded as happening now; a session claiming to start 20 minutes ago is refused.
    services.product_thaw(actor=lab, product=product)
    refused(
        Code.TIME_ORDER,
        administer,
        physician,
        nurse,
        plan,
        product,
        started_at=timezone.now() - timedelta(minutes=20),
        ended_at=timezone.now() - timedelta(minutes=10),
    )
    assert not TreatmentSession.objects.exists()
