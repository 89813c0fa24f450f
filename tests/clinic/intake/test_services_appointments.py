"""Appointments: no future one completed, back entry needs a reason, dates in range."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from anagen.clinic.intake.error_codes import IntakeErrorCode
from anagen.clinic.intake.models import Appointment
from anagen.clinic.intake.services import appointment_book, appointment_set_status
from tests.clinic.refusals import codes, raises_code

pytestmark = pytest.mark.django_db


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
