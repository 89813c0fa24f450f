from __future__ import annotations

import pytest

from anagen.clinic.accounts.roles import Role
from anagen.clinic.common import clock
from anagen.clinic.intake.models import Appointment
from anagen.clinic.intake.services import appointment_set_status
from anagen.clinic.treatment.services import adverse_event_report
from tests.clinic.world import build_world


@pytest.fixture
def world(db):
    """``build_world`` plus what FHIR shows beyond it: a visit that took place (an Encounter),
    an adverse event after the session, and an assessment with laboratory results."""
    from anagen.clinic.assessment.services import assessment_record

    built = build_world()
    physician = built["staff"][Role.PHYSICIAN]
    objects = built["objects"]
    patient = objects["patient"]
    appointment_set_status(
        actor=physician, appointment=objects["appointment"], status=Appointment.Status.ARRIVED
    )
    objects["adverse_event"] = adverse_event_report(
        actor=physician,
        patient=patient,
        type="bruising",
        site="injection",
        grade=1,
        onset_on=clock.localdate(),
        relatedness="probable",
        description="Bruising at the vertex",
        session=objects["session"],
    )
    objects["labs"] = assessment_record(
        actor=physician,
        patient=patient,
        pattern="mixed",
        norwood="IV",
        onset_age_years=28,
        ferritin=45,
        tsh="2.10",
        vitamin_d="62.5",
        haemoglobin="14.2",
    )
    return built
