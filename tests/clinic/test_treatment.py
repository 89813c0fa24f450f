from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from anagen.clinic.accounts.passwords import PasswordNotConfirmed
from anagen.clinic.accounts.roles import Role
from anagen.clinic.audit.signatures import current_signature
from anagen.clinic.patients.services import patient_create
from anagen.clinic.treatment import services
from anagen.clinic.treatment.error_codes import TreatmentErrorCode as Code
from anagen.clinic.treatment.models import (
    CellProduct,
    CustodyEvent,
    Harvest,
    ScheduledVisit,
    TreatmentSession,
)
from anagen.identity import parse_product_id

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


@pytest.fixture
def team(staff):
    return staff[Role.PHYSICIAN], staff[Role.NURSE], staff[Role.LAB_TECHNICIAN]


@pytest.fixture
def patient(patient, staff):
    """The shared patient, assessed as a candidate (treatment needs it)."""
    make_candidate(staff[Role.PHYSICIAN], patient)
    return patient


@pytest.fixture
def plan(team, patient):
    physician, nurse, _ = team
    return consented_plan(physician, nurse, patient)


def test_consent_snapshot_is_the_signed_pdf(plan):
    consent = plan.consents.get()
    data = consent.snapshot_pdf.read()
    assert data.startswith(b"%PDF")
    import hashlib

    assert hashlib.sha256(data).hexdigest() == consent.snapshot_sha256
    assert "investigational" in consent.consent_text.body.lower()
    plan.refresh_from_db()
    assert plan.status == "consented"


def test_consent_requires_the_patients_own_name(team, patient):
    physician, nurse, _ = team
    from anagen.clinic.treatment.defaults import ensure_defaults

    protocol, text = ensure_defaults()
    plan = services.plan_create(actor=physician, patient=patient, protocol=protocol)
    with raises_code(Code.SIGNER_NAME_MISMATCH, "signer_name"):
        services.consent_sign(
            actor=nurse, plan=plan, consent_text=text, signer_name="Someone Else", agrees=True
        )
    assert not plan.consents.exists()


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


def test_adverse_event_validation(team, plan, patient):
    physician, nurse, lab = team
    session = administer(physician, nurse, plan, released_product(physician, lab, plan))
    event = services.adverse_event_report(
        actor=nurse,
        patient=patient,
        session=session,
        type="bruising",
        site="injection",
        grade=1,
        onset_on=timezone.localdate(),
        relatedness="definite",
        action_taken="Cold pack",
    )
    assert event.pk
    with raises_code(Code.TIME_ORDER, "resolved_on"):
        services.adverse_event_report(
            actor=nurse,
            patient=patient,
            type="pain",
            site="harvest",
            grade=2,
            onset_on=timezone.localdate(),
            resolved_on=timezone.localdate() - timedelta(days=2),
            relatedness="probable",
        )
    with pytest.raises(ValidationError):
        services.adverse_event_report(
            actor=nurse,
            patient=patient,
            type="pain",
            site="harvest",
            grade=7,
            onset_on=timezone.localdate(),
            relatedness="probable",
        )


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
