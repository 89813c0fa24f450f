"""Each hole found by trying the pathway as a new clinic would, reproduced and now refused.

One test per finding: the step is refused with its gate's code and a message in clinic words, and
nothing changed (no session, no status change, no record). ``make test-postgres`` runs these on
PostgreSQL too.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from anagen.clinic.accounts.roles import Role
from anagen.clinic.assessment.error_codes import AssessmentErrorCode
from anagen.clinic.assessment.services import assessment_record, decision_override
from anagen.clinic.intake.error_codes import IntakeErrorCode
from anagen.clinic.intake.models import Appointment
from anagen.clinic.intake.services import appointment_book, appointment_set_status
from anagen.clinic.treatment import selectors, services
from anagen.clinic.treatment.defaults import ensure_defaults
from anagen.clinic.treatment.error_codes import TreatmentErrorCode as Code
from anagen.clinic.treatment.models import (
    AdverseEvent,
    CellProduct,
    Harvest,
    TreatmentPlan,
    TreatmentSession,
)

from .conftest import PASSWORD
from .refusals import raises_code
from .treatment_helpers import (
    administer,
    consented_plan,
    harvest,
    make_candidate,
    released_product,
    second_lab_technician,
)

pytestmark = pytest.mark.django_db
S = CellProduct.Status


def codes(error: ValidationError) -> set[str]:
    """Every code carried by a (possibly field-keyed) ValidationError."""
    if hasattr(error, "error_dict"):
        return {e.code for errors in error.error_dict.values() for e in errors}
    return {e.code for e in error.error_list}


def refused(code: str, call, *args, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)
    assert code in codes(caught.value), (code, caught.value)
    return caught.value


@pytest.fixture
def team(staff):
    return staff[Role.PHYSICIAN], staff[Role.NURSE], staff[Role.LAB_TECHNICIAN]


def assess(physician, patient, **fields):
    fields.setdefault("pattern", "thinning")
    fields.setdefault("norwood", "III")
    return assessment_record(actor=physician, patient=patient, **fields)


# --- consent ------------------------------------------------------------------------------


def test_a_withdrawn_consent_stops_the_administration(team, patient):
    physician, nurse, lab = team
    plan = consented_plan(physician, nurse, patient)
    product = released_product(physician, lab, plan)
    services.consent_withdraw(actor=nurse, consent=plan.consents.get(), reason="Changed mind")
    error = refused(Code.NO_CONSENT, administer, physician, nurse, plan, product)
    assert "withdrawn" in str(error)
    refused(
        Code.NO_CONSENT,
        services.identity_check,
        plan=plan,
        scanned_product_code=product.product_code,
        scanned_mrn=patient.mrn,
        now=timezone.now(),
    )
    product.refresh_from_db()
    assert product.status == S.RELEASED and not TreatmentSession.objects.exists()


# --- eligibility --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"contraindications": ["pregnancy"]},  # not suitable
        {"norwood": "VI"},  # refer for transplant
        None,  # never assessed
    ],
    ids=["not_suitable", "refer_for_transplant", "no_assessment"],
)
def test_plan_needs_a_candidate_decision(team, patient, fields):
    physician, _, _ = team
    if fields is not None:
        assert assess(physician, patient, **fields).decision.final_outcome != "candidate"
    protocol, _ = ensure_defaults()
    error = refused(
        Code.NOT_ELIGIBLE,
        services.plan_create,
        actor=physician,
        patient=patient,
        protocol=protocol,
    )
    assert ("Candidate" if fields else "assess them first") in str(error)
    assert not TreatmentPlan.objects.exists()


def test_an_override_with_a_reason_opens_the_pathway(team, patient):
    physician, nurse, lab = team
    decision = assess(physician, patient, norwood="VI").decision
    decision_override(
        actor=physician,
        decision=decision,
        outcome="candidate",
        reason="Patient declines transplant; informed of the limited evidence.",
    )
    plan = consented_plan(physician, nurse, patient)
    administer(physician, nurse, plan, released_product(physician, lab, plan))
    assert TreatmentSession.objects.count() == 1


def test_a_later_not_suitable_assessment_stops_harvest_and_administration(team, patient):
    physician, nurse, lab = team
    plan = consented_plan(physician, nurse, patient)
    product = released_product(physician, lab, plan)
    later = assess(physician, patient, contraindications=["pregnancy"])
    assert later.decision.final_outcome == "not_suitable"
    refused(Code.NOT_ELIGIBLE, harvest, physician, plan)
    refused(Code.NOT_ELIGIBLE, administer, physician, nurse, plan, product)
    assert Harvest.objects.count() == 1 and not TreatmentSession.objects.exists()


# --- volume and dose ------------------------------------------------------------------------


def _map(points: int, ml: str, cells: int) -> list[dict]:
    return [
        {"zone": "vertex", "points": points, "volume_per_point_ml": ml, "cells_per_point": cells}
    ]


def _release(physician, lab, plan, *, volume: str, cells: int) -> CellProduct:
    product = harvest(physician, plan).products.get()
    services.product_record_results(
        actor=lab,
        product=product,
        processing_ended_at=timezone.now() - timedelta(minutes=30),
        total_nucleated_cells=cells + cells // 5,
        viable_fraction=Decimal("0.85"),
        viable_cells=cells,
        volume_ml=Decimal(volume),
        qc_sterility="pass",
        qc_endotoxin="pass",
    )
    return services.product_release(
        actor=second_lab_technician(lab), product=product, password=PASSWORD
    )


def test_more_volume_than_the_product_holds_is_refused(team, patient):
    physician, nurse, lab = team
    plan = consented_plan(physician, nurse, patient)
    product = _release(physician, lab, plan, volume="5.00", cells=9_000_000)
    error = refused(  # 110 × 0.05 mL = 5.50 mL
        Code.OVER_VOLUME,
        administer,
        physician,
        nurse,
        plan,
        product,
        zones=_map(110, "0.05", 50_000),
    )
    assert "5.50 mL" in str(error) and "5.00 mL" in str(error)
    product.refresh_from_db()
    assert product.status == S.RELEASED and not TreatmentSession.objects.exists()


def test_more_cells_than_viable_is_refused(team, patient):
    physician, nurse, lab = team
    plan = consented_plan(physician, nurse, patient)
    product = _release(physician, lab, plan, volume="5.00", cells=6_000_000)
    refused(
        Code.OVER_CELLS,
        administer,
        physician,
        nurse,
        plan,
        product,
        zones=_map(50, "0.05", 130_000),
    )
    assert not TreatmentSession.objects.exists()


def test_partial_use_records_the_residual_volume(team, patient):
    physician, nurse, lab = team
    plan = consented_plan(physician, nurse, patient)
    product = _release(physician, lab, plan, volume="5.00", cells=9_000_000)
    session = administer(physician, nurse, plan, product, zones=_map(60, "0.05", 100_000))
    assert session.total_volume_ml == Decimal("3.00")
    last = product.custody.order_by("-pk").first()
    assert "3.00 mL used, 2.00 mL left unused" in last.reason


def test_a_dose_above_the_plan_is_administered_with_a_warning(client, team, patient):
    physician, nurse, lab = team
    plan = consented_plan(physician, nurse, patient)
    assert plan.planned_dose_cells == 5_000_000
    product = _release(physician, lab, plan, volume="5.00", cells=12_000_000)
    session = administer(physician, nurse, plan, product, zones=_map(100, "0.04", 110_000))
    assert session.total_cells == 11_000_000
    warning = selectors.dose_warning(plan=plan, total_cells=session.total_cells)
    assert warning and "planned dose of 5,000,000" in warning
    client.force_login(physician)
    page = client.get(reverse("treatment:session", args=[session.pk])).content.decode()
    assert "above the planned dose" in page


# --- expiry and time order ------------------------------------------------------------------


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
    assert product.status == S.IN_PROCESSING and product.processing_ended_at is None
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
    assert product.status == S.RELEASED and not product.freezer


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
    assert product.status == S.STORED


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
    assert product.status == S.QUARANTINE
    with override_settings(ANAGEN_RELEASE_FOUR_EYES=False):  # documented single-technician lab
        services.product_release(actor=lab, product=product, password=PASSWORD)
    product.refresh_from_db()
    assert product.status == S.RELEASED


def test_an_adverse_event_links_to_a_session_or_a_harvest_not_both_and_not_before_it(team, patient):
    physician, nurse, lab = team
    plan = consented_plan(physician, nurse, patient)
    session = administer(physician, nurse, plan, released_product(physician, lab, plan))
    event = {
        "actor": nurse,
        "patient": patient,
        "type": "bruising",
        "site": "injection",
        "grade": 1,
        "relatedness": "possible",
    }
    with raises_code(Code.LINK_CONFLICT, "harvest"):
        services.adverse_event_report(
            **event,
            onset_on=timezone.localdate(),
            session=session,
            harvest=session.product.harvest,
        )
    refused(
        Code.TIME_ORDER,
        services.adverse_event_report,
        **event,
        onset_on=timezone.localdate() - timedelta(days=3),
        session=session,
    )
    assert not AdverseEvent.objects.exists()


def test_a_stop_date_needs_a_start_date_in_the_service(team, patient):
    physician, _, _ = team
    with pytest.raises(ValidationError) as caught:
        assess(physician, patient, prior_treatments={"minoxidil": {"stopped": "2024-01-01"}})
    assert "minoxidil_started" in caught.value.error_dict
    assert codes(caught.value) == {AssessmentErrorCode.DATE_RANGE}
    assert not patient.assessments.exists()


def test_a_future_appointment_cannot_be_completed(team, patient, coordinator, tomorrow_10):
    physician, _, _ = team
    appointment = appointment_book(
        actor=coordinator,
        patient=patient,
        kind="consult",
        starts_at=tomorrow_10,
        clinician=physician,
    )
    for status in ("completed", "no_show"):
        with raises_code(IntakeErrorCode.TIME_ORDER, "status"):
            appointment_set_status(actor=coordinator, appointment=appointment, status=status)
    appointment_set_status(actor=coordinator, appointment=appointment, status="arrived")  # early
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.ARRIVED


def test_a_booking_in_the_past_needs_a_back_entry_reason(team, patient, coordinator):
    physician, _, _ = team
    yesterday = timezone.now() - timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        appointment_book(
            actor=coordinator,
            patient=patient,
            kind="consult",
            starts_at=yesterday,
            clinician=physician,
        )
    assert "back_entry_reason" in caught.value.error_dict
    assert codes(caught.value) == {IntakeErrorCode.TIME_ORDER}
    assert not Appointment.objects.exists()
    booked = appointment_book(
        actor=coordinator,
        patient=patient,
        kind="consult",
        starts_at=yesterday,
        clinician=physician,
        back_entry_reason="Walk-in seen yesterday; entered from the paper day sheet.",
    )
    assert booked.back_entry_reason.startswith("Walk-in")


def test_candidate_helper_really_is_a_candidate(team, patient):
    physician, _, _ = team
    assert make_candidate(physician, patient).decision.outcome == "candidate"


def test_the_pages_say_up_front_why_treatment_is_refused(client, team, patient):
    physician, nurse, lab = team
    client.force_login(physician)
    page = client.get(reverse("treatment:plan_new", args=[patient.pk])).content.decode()
    assert "no eligibility decision yet" in page
    plan = consented_plan(physician, nurse, patient)
    released_product(physician, lab, plan)
    assess(physician, patient, norwood="VI")  # now: refer for transplant
    for name in ("treatment:harvest_new", "treatment:session_new"):
        page = client.get(reverse(name, args=[plan.pk])).content.decode()
        assert "Refer for hair transplant" in page, name


def test_a_withdrawal_ends_every_signature_on_the_plan(team, patient):
    """Found by trying it: with two signatures, withdrawing the newest left the older valid."""
    physician, nurse, _ = team
    plan = consented_plan(physician, nurse, patient)
    _, text = ensure_defaults()
    again = services.consent_sign(
        actor=nurse, plan=plan, consent_text=text, signer_name=patient.full_name, agrees=True
    )
    services.consent_withdraw(actor=nurse, consent=again, reason="Patient withdrew by phone")
    assert selectors.valid_consent_for(plan) is None
    refused(Code.NO_CONSENT, harvest, physician, plan)
    assert plan.consents.filter(withdrawn_at__isnull=True).count() == 0
    # Withdrawing again keeps the first withdrawal's time and reason.
    first = plan.consents.get(pk=again.pk)
    with raises_code(Code.ALREADY_WITHDRAWN):
        services.consent_withdraw(actor=nurse, consent=first, reason="Different reason later")
    first.refresh_from_db()
    assert first.withdrawal_reason == "Patient withdrew by phone"
    # Only a new signature after the withdrawal restores consent.
    services.consent_sign(
        actor=nurse, plan=plan, consent_text=text, signer_name=patient.full_name, agrees=True
    )
    assert selectors.valid_consent_for(plan) is not None


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


def test_a_refusal_is_shown_once(client, team, patient):
    physician, _, _ = team
    protocol, _ = ensure_defaults()
    client.force_login(physician)
    url = reverse("treatment:plan_new", args=[patient.pk])
    body = client.post(url, {"protocol": protocol.pk, "target_zones": ["vertex"]}).content.decode()
    assert body.count("no eligibility decision yet") == 1
    assert not TreatmentPlan.objects.exists()


def test_a_protocol_id_that_is_not_a_number_falls_back_to_the_first(client, team, patient):
    physician, _, _ = team
    ensure_defaults()
    client.force_login(physician)
    response = client.get(reverse("treatment:plan_new", args=[patient.pk]), {"protocol": "abc"})
    assert response.status_code == 200


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
    assert product.status == S.RELEASED and product.expires_at < timezone.now()


def test_a_stale_withdrawal_form_cannot_withdraw_a_newer_signature(team, patient):
    """Found by trying it: a withdraw form left open withdrew the patient's new signature."""
    physician, nurse, _ = team
    plan = consented_plan(physician, nurse, patient)
    old = plan.consents.get()
    services.consent_withdraw(actor=nurse, consent=old, reason="Withdrawn at reception")
    _, text = ensure_defaults()
    new = services.consent_sign(
        actor=nurse, plan=plan, consent_text=text, signer_name=patient.full_name, agrees=True
    )
    with raises_code(Code.ALREADY_WITHDRAWN):
        services.consent_withdraw(actor=nurse, consent=old, reason="Stale tab")
    new.refresh_from_db()
    assert new.withdrawn_at is None and selectors.valid_consent_for(plan) == new


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


def test_appointments_far_in_time_are_refused(team, patient, coordinator):
    physician, _, _ = team
    for year in (1, 9999):
        with pytest.raises(ValidationError) as caught:
            appointment_book(
                actor=coordinator,
                patient=patient,
                kind="consult",
                starts_at=timezone.now().replace(year=year, month=6, day=1),
                clinician=physician,
                back_entry_reason="Typing error test",
            )
        assert "starts_at" in caught.value.error_dict
        assert codes(caught.value) == {IntakeErrorCode.DATE_RANGE}
