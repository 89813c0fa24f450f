"""Adverse events: validation, what they link to, time order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from anagen.clinic.assessment.error_codes import AssessmentErrorCode
from anagen.clinic.treatment import services
from anagen.clinic.treatment.error_codes import TreatmentErrorCode as Code
from anagen.clinic.treatment.models import (
    AdverseEvent,
)
from tests.clinic.refusals import codes, raises_code, refused
from tests.clinic.treatment_helpers import (
    administer,
    assess,
    consented_plan,
    released_product,
)

pytestmark = pytest.mark.django_db


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
