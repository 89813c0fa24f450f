from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from anagen.clinic.intake.error_codes import IntakeErrorCode
from anagen.clinic.intake.models import Appointment, Inquiry, ReminderSent
from anagen.clinic.intake.services import (
    appointment_book,
    appointment_set_status,
    inquiry_convert,
    inquiry_submit,
    reminders_send_due,
)
from anagen.clinic.patients.models import Patient
from tests.clinic.refusals import raises_code

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()


def public_form(site, **extra):
    data = {
        "full_name": "Milo Rookwood",
        "phone": "+44 7700 900222",
        "email": "milo@example.test",
        "preferred_site": site.pk,
        "preferred_time": "mornings",
        "message": "Crown thinning",
        "consent_to_contact": "on",
        "website": "",
    }
    data.update(extra)
    return data


def test_public_request_creates_an_inquiry_not_a_patient(client, site):
    response = client.post(reverse("intake:request"), public_form(site))
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    assert inquiry.status == Inquiry.Status.NEW and inquiry.patient is None
    assert Patient.objects.count() == 0


def test_spam_honeypot_creates_nothing(client, site):
    response = client.post(
        reverse("intake:request"), public_form(site, website="http://spam.example")
    )
    assert response.status_code == 302  # the bot is told nothing
    assert Inquiry.objects.count() == 0 and Patient.objects.count() == 0


@pytest.mark.parametrize(
    "field, value",
    [
        ("phone", "call me maybe"),
        ("full_name", ""),
        ("consent_to_contact", ""),
        ("email", "not-an-email"),
        ("message", "m" * 2001),
        ("preferred_site", "999"),
    ],
)
def test_public_request_validation(client, site, field, value):
    response = client.post(reverse("intake:request"), public_form(site, **{field: value}))
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert Inquiry.objects.count() == 0


def test_public_request_is_rate_limited(client, site):
    for _ in range(5):
        assert client.post(reverse("intake:request"), public_form(site)).status_code == 302
    response = client.post(reverse("intake:request"), public_form(site))
    assert response.status_code == 200
    assert "several requests" in response.content.decode()
    assert Inquiry.objects.count() == 5


def test_convert_inquiry_to_patient_and_consult(coordinator, physician, site, tomorrow_10):
    inquiry = inquiry_submit(full_name="Esme Dunmore", phone="+44 7700 900333", preferred_site=site)
    patient, appointment = inquiry_convert(
        actor=coordinator,
        inquiry=inquiry,
        patient_fields={
            "given_name": "Esme",
            "family_name": "Dunmore",
            "date_of_birth": tomorrow_10.date().replace(year=1985),
            "sex": "female",
            "phone": inquiry.phone,
            "email": "",
        },
        consult_starts_at=tomorrow_10,
        clinician=physician,
        site=site,
    )
    inquiry.refresh_from_db()
    assert inquiry.status == Inquiry.Status.BOOKED and inquiry.patient == patient
    assert appointment.kind == Appointment.Kind.CONSULT and appointment.patient == patient
    with raises_code(IntakeErrorCode.ALREADY_CONVERTED):
        inquiry_convert(
            actor=coordinator,
            inquiry=inquiry,
            patient_fields={},
            consult_starts_at=tomorrow_10,
            clinician=physician,
            site=site,
        )


def test_failed_conversion_changes_nothing(coordinator, physician, patient, site, tomorrow_10):
    appointment_book(
        actor=coordinator,
        patient=patient,
        kind="consult",
        starts_at=tomorrow_10,
        clinician=physician,
    )
    inquiry = inquiry_submit(
        full_name="Nell Oakhanger", phone="+44 7700 900444", preferred_site=site
    )
    with raises_code(IntakeErrorCode.CLINICIAN_BOOKED, "starts_at"):
        inquiry_convert(
            actor=coordinator,
            inquiry=inquiry,
            patient_fields={
                "given_name": "Nell",
                "family_name": "Oakhanger",
                "date_of_birth": tomorrow_10.date().replace(year=1990),
                "sex": "female",
                "phone": inquiry.phone,
                "email": "",
            },
            consult_starts_at=tomorrow_10 + timedelta(minutes=20),
            clinician=physician,
            site=site,
        )
    inquiry.refresh_from_db()
    assert inquiry.patient is None and inquiry.status == Inquiry.Status.NEW
    assert Patient.objects.count() == 1


@pytest.mark.parametrize(
    "offset_minutes, minutes, clash",
    [(-45, 45, False), (-45, 46, True), (0, 45, True), (44, 45, True), (45, 45, False)],
)
def test_no_double_booking_of_a_clinician(
    coordinator, physician, patient, tomorrow_10, offset_minutes, minutes, clash
):
    appointment_book(
        actor=coordinator,
        patient=patient,
        kind="consult",
        starts_at=tomorrow_10,
        clinician=physician,
    )  # 10:00-10:45
    start = tomorrow_10 + timedelta(minutes=offset_minutes)
    if clash:
        with raises_code(IntakeErrorCode.CLINICIAN_BOOKED, "starts_at"):
            appointment_book(
                actor=coordinator,
                patient=patient,
                kind="follow_up",
                starts_at=start,
                clinician=physician,
                duration_minutes=minutes,
            )
        assert Appointment.objects.count() == 1
    else:
        appointment_book(
            actor=coordinator,
            patient=patient,
            kind="follow_up",
            starts_at=start,
            clinician=physician,
            duration_minutes=minutes,
        )


def test_cancelled_appointment_frees_the_slot(coordinator, physician, patient, tomorrow_10):
    first = appointment_book(
        actor=coordinator,
        patient=patient,
        kind="consult",
        starts_at=tomorrow_10,
        clinician=physician,
    )
    appointment_set_status(actor=coordinator, appointment=first, status="cancelled")
    appointment_book(
        actor=coordinator,
        patient=patient,
        kind="consult",
        starts_at=tomorrow_10,
        clinician=physician,
    )


def test_only_clinicians_can_be_booked(coordinator, patient, tomorrow_10):
    with raises_code(IntakeErrorCode.CLINICIAN_ROLE, "clinician"):
        appointment_book(
            actor=coordinator,
            patient=patient,
            kind="consult",
            starts_at=tomorrow_10,
            clinician=coordinator,
        )


def test_reminders_are_sent_once(coordinator, physician, patient, tomorrow_10):
    appointment_book(
        actor=coordinator,
        patient=patient,
        kind="consult",
        starts_at=tomorrow_10,
        clinician=physician,
    )
    far = appointment_book(
        actor=coordinator,
        patient=patient,
        kind="follow_up",
        starts_at=tomorrow_10 + timedelta(days=10),
        clinician=physician,
    )
    assert reminders_send_due() == 1
    assert reminders_send_due() == 0
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [patient.email]
    assert "reminder" in mail.outbox[0].body
    assert not ReminderSent.objects.filter(appointment=far).exists()


def test_reminder_command_and_celery_task(coordinator, physician, patient, tomorrow_10):
    from django.core.management import call_command

    from anagen.clinic.intake.tasks import send_appointment_reminders

    appointment_book(
        actor=coordinator,
        patient=patient,
        kind="consult",
        starts_at=tomorrow_10,
        clinician=physician,
    )
    call_command("send_reminders")
    assert send_appointment_reminders.delay().get() == 0
    assert len(mail.outbox) == 1


def test_day_view_groups_by_clinician(client, coordinator, physician, patient, tomorrow_10):
    appointment_book(
        actor=coordinator,
        patient=patient,
        kind="consult",
        starts_at=tomorrow_10,
        clinician=physician,
    )
    client.force_login(coordinator)
    day = timezone.localtime(tomorrow_10).date().isoformat()
    page = client.get(reverse("intake:day"), {"day": day}).content.decode()
    assert physician.display_name in page and patient.full_name in page
    assert "10:00–10:45" in page
    empty = client.get(reverse("intake:day"), {"day": "2001-01-01"}).content.decode()
    assert "No appointments on this day" in empty


def test_day_view_rejects_impossible_date(client, coordinator):
    client.force_login(coordinator)
    response = client.get(reverse("intake:day"), {"day": "2026-02-30"})
    assert response.status_code == 200
    assert "Enter a valid date" in response.content.decode()


# --- explicit signature, duplicates on conversion ------------------------------------------


def test_inquiry_submit_takes_only_what_the_public_may_say(site, patient):
    with pytest.raises(TypeError):
        inquiry_submit(
            full_name="A B", phone="+44 7700 900555", preferred_site=site, status="booked"
        )
    with pytest.raises(TypeError):
        inquiry_submit(
            full_name="A B", phone="+44 7700 900555", preferred_site=site, patient=patient
        )
    assert not Inquiry.objects.exists()


def convert_form(site, physician, when, **extra):
    data = {
        "given_name": "Ada",
        "family_name": "Quill",
        "date_of_birth": "1988-04-02",
        "sex": "female",
        "phone": "+44 7700 900666",
        "email": "",
        "site": site.pk,
        "consult_starts_at": timezone.localtime(when).strftime("%Y-%m-%dT%H:%M"),
        "clinician": physician.pk,
    }
    data.update(extra)
    return data


def test_conversion_page_shows_possible_duplicates_and_converts_once_confirmed(
    client, coordinator, physician, patient, site, tomorrow_10
):
    inquiry = inquiry_submit(full_name="Ada Quill", phone="+44 7700 900666", preferred_site=site)
    client.force_login(coordinator)
    url = reverse("intake:convert", args=[inquiry.pk])
    refused = client.post(url, convert_form(site, physician, tomorrow_10))
    body = refused.content.decode()
    assert refused.status_code == 200
    assert patient.mrn in body and "This is a different person" in body
    assert Patient.objects.count() == 1 and not Appointment.objects.exists()
    inquiry.refresh_from_db()
    assert inquiry.patient is None

    confirmed = client.post(
        url, convert_form(site, physician, tomorrow_10, confirm_not_duplicate="on")
    )
    assert confirmed.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.patient is not None and inquiry.patient != patient
