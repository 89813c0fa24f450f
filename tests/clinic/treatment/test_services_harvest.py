"""Fat harvest: consent in force, eligibility, the donation identifier, the sterile checklist."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from anagen.clinic.treatment import services
from anagen.clinic.treatment.error_codes import TreatmentErrorCode as Code
from anagen.clinic.treatment.models import (
    Harvest,
    TreatmentSession,
)
from anagen.identity import parse_product_id
from tests.clinic.refusals import raises_code, refused
from tests.clinic.treatment_helpers import (
    administer,
    assess,
    consented_plan,
    harvest,
    released_product,
)

pytestmark = pytest.mark.django_db


def test_no_harvest_without_valid_consent(team, plan):
    physician, nurse, _ = team
    services.consent_withdraw(actor=nurse, consent=plan.consents.get(), reason="Changed mind")
    with raises_code(Code.NO_CONSENT):
        harvest(physician, plan)
    assert not Harvest.objects.exists()


def test_harvest_issues_checked_donation_identifier_and_specimen(team, plan):
    physician, _, _ = team
    first, second = harvest(physician, plan), harvest(physician, plan)
    assert first.donation_code != second.donation_code
    product = first.products.get()
    parsed = parse_product_id(product.product_code)  # raises if the check character is wrong
    assert parsed.donation.text == first.donation_code
    assert product.status == "in_processing" and product.patient == plan.patient
    assert product.custody.get().kind == "created"


def test_sterile_checklist_must_be_complete(team, plan):
    physician, _, _ = team
    with raises_code(Code.STERILE_CHECKLIST, "sterile_checklist"):
        harvest(physician, plan, sterile_checklist={"skin_prep": True})
    assert not Harvest.objects.exists()


def test_a_later_not_suitable_assessment_stops_harvest_and_administration(team, patient):
    physician, nurse, lab = team
    plan = consented_plan(physician, nurse, patient)
    product = released_product(physician, lab, plan)
    later = assess(physician, patient, contraindications=["pregnancy"])
    assert later.decision.final_outcome == "not_suitable"
    refused(Code.NOT_ELIGIBLE, harvest, physician, plan)
    refused(Code.NOT_ELIGIBLE, administer, physician, nurse, plan, product)
    assert Harvest.objects.count() == 1 and not TreatmentSession.objects.exists()


def test_no_harvest_before_the_consent_and_no_session_before_the_release(team, patient):
    """Found by trying it: back-dated times made a session precede its product's harvest."""
    physician, nurse, lab = team
    plan = consented_plan(physician, nurse, patient)  # signed a day ago
    refused(
        Code.TIME_ORDER,
        harvest,
        physician,
        plan,
        performed_at=timezone.now() - timedelta(days=3),
    )
    product = released_product(physician, lab, plan)  # released now
    refused(
        Code.TIME_ORDER,
        administer,
        physician,
        nurse,
        plan,
        product,
        started_at=timezone.now() - timedelta(hours=3),
        ended_at=timezone.now() - timedelta(hours=2),
    )
    assert not TreatmentSession.objects.exists()
