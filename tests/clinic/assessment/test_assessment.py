import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.assessment.error_codes import AssessmentErrorCode
from anagen.clinic.assessment.models import Assessment, EligibilityDecision
from anagen.clinic.assessment.services import assessment_record, decision_override
from anagen.eligibility import AssessmentFacts, evaluate, vocab
from tests.clinic.refusals import raises_code

pytestmark = pytest.mark.django_db


def record(physician, patient, **fields):
    fields.setdefault("pattern", "thinning")
    return assessment_record(actor=physician, patient=patient, **fields)


@pytest.mark.parametrize(
    "fields, outcome",
    [
        ({"norwood": "III", "loss_duration_months": 12}, "candidate"),
        ({"norwood": "VI"}, "refer_for_transplant"),
        ({"norwood": "III", "ferritin": 12}, "treat_cause_first"),
        ({"norwood": "III", "triggers": ["pregnancy_postpartum"]}, "treat_cause_first"),
        ({"norwood": "III", "contraindications": ["scarring_alopecia"]}, "specialist_referral"),
        ({"norwood": "III", "contraindications": ["pregnancy"]}, "not_suitable"),
    ],
)
def test_decision_is_stored_with_reasons_and_version(physician, patient, fields, outcome):
    assessment = record(physician, patient, **fields)
    decision = assessment.decision
    assert decision.outcome == outcome
    assert decision.reasons and all("rule_id" in r and "text" in r for r in decision.reasons)
    assert decision.ruleset_version


@pytest.mark.django_db(False)
def test_one_outcome_vocabulary_for_engine_and_clinic():
    # The model's choices and the engine's stored label both come from vocab.OUTCOME_LABELS.
    assert list(vocab.OUTCOME_LABELS.items()) == EligibilityDecision.OUTCOMES
    assert EligibilityDecision(outcome="refer_for_transplant").final_outcome_label == (
        "Refer for hair transplant"
    )
    decision = evaluate(AssessmentFacts(sex="male", age_years=40, norwood="VI"))
    assert decision.to_dict()["outcome_label"] == "Refer for hair transplant"


def test_only_physicians_assess(staff, patient):
    with pytest.raises(PermissionDenied):
        record(staff[Role.NURSE], patient, norwood="III")
    assert Assessment.objects.count() == 0


def test_override_needs_a_reason_and_keeps_engine_decision(physician, patient):
    decision = record(physician, patient, norwood="VI").decision
    with raises_code(AssessmentErrorCode.REASON_REQUIRED, "reason"):
        decision_override(actor=physician, decision=decision, outcome="candidate", reason="ok")
    decision_override(
        actor=physician,
        decision=decision,
        outcome="candidate",
        reason="Patient declines transplant; frontal zone retains living follicles on trichoscopy.",
    )
    decision.refresh_from_db()
    assert decision.outcome == "refer_for_transplant"
    assert decision.final_outcome == "candidate"
    assert decision.overridden_by == physician
    versions = list(decision.history.order_by("history_date"))
    assert [v.override_outcome for v in versions] == ["", "candidate"]


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"ferritin": -4}, AssessmentErrorCode.INVALID_LAB),
        ({"tsh": 1500}, AssessmentErrorCode.INVALID_LAB),
        ({"onset_age_years": 90}, AssessmentErrorCode.AGE_MISMATCH),
        ({"loss_duration_months": 900}, AssessmentErrorCode.AGE_MISMATCH),
        ({"basp": "Q9"}, AssessmentErrorCode.INVALID_BASP),
    ],
)
def test_bad_assessment_is_refused_and_nothing_saved(physician, patient, fields, code):
    with raises_code(code):
        record(physician, patient, norwood="III", **fields)
    assert Assessment.objects.count() == 0 and EligibilityDecision.objects.count() == 0


def form_data(**extra):
    data = {
        "pattern": "thinning",
        "family_history": "unknown",
        "pull_test": "not_done",
        "norwood": "III",
        "ferritin": "80",
    }
    data.update(extra)
    return data


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("ferritin", "-3", "cannot be negative"),
        ("norwood", "VIII", "Select a valid choice"),
        ("sinclair", "9", "Select a valid choice"),
        ("assessed_at", "2026-02-30T10:00", "Enter a valid date"),
        ("minoxidil_started", "2099-01-01", "between the patient"),
        ("triggers", "moon_phase", "Select a valid choice"),
    ],
)
def test_assessment_form_errors_change_nothing(client, physician, patient, field, value, message):
    client.force_login(physician)
    response = client.post(
        reverse("assessment:new", args=[patient.pk]), form_data(**{field: value})
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Assessment.objects.count() == 0


def test_assessment_form_saves_and_shows_decision(client, physician, patient):
    client.force_login(physician)
    response = client.post(
        reverse("assessment:new", args=[patient.pk]),
        form_data(minoxidil_started="2024-01-10", trichoscopy_findings=["miniaturization"]),
    )
    assessment = Assessment.objects.get()
    assert response.status_code == 302
    assert assessment.prior_treatments == {"minoxidil": {"started": "2024-01-10", "stopped": None}}
    page = client.get(reverse("assessment:detail", args=[assessment.pk])).content.decode()
    assert "Eligibility" in page and assessment.decision.get_outcome_display() in page


def test_override_through_the_page(client, physician, patient):
    assessment = record(physician, patient, norwood="VII")
    client.force_login(physician)
    url = reverse("assessment:override", args=[assessment.pk])
    assert client.post(url, {"outcome": "candidate", "reason": "short"}).status_code == 200
    response = client.post(
        url, {"outcome": "candidate", "reason": "Discussed at MDT, accepted for trial arm."}
    )
    assert response.status_code == 302
    assessment.decision.refresh_from_db()
    assert assessment.decision.final_outcome == "candidate"
