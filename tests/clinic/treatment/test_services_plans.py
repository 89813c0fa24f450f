"""Treatment plans: only for a candidate (or a physician's override)."""

from __future__ import annotations

import pytest

from anagen.clinic.assessment.services import decision_override
from anagen.clinic.treatment import services
from anagen.clinic.treatment.defaults import ensure_defaults
from anagen.clinic.treatment.error_codes import TreatmentErrorCode as Code
from anagen.clinic.treatment.models import (
    TreatmentPlan,
    TreatmentSession,
)
from tests.clinic.refusals import refused
from tests.clinic.treatment_helpers import (
    administer,
    assess,
    consented_plan,
    make_candidate,
    released_product,
)

pytestmark = pytest.mark.django_db


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


def test_candidate_helper_really_is_a_candidate(team, patient):
    physician, _, _ = team
    assert make_candidate(physician, patient).decision.outcome == "candidate"
