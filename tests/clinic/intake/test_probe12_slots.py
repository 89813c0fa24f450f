"""Probe: free-slot pages with hostile query strings, another site's clinician and records."""

from __future__ import annotations

import pytest
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.intake.models import Appointment
from anagen.clinic.intake.services import appointment_book
from tests.clinic.factories import PatientFactory, staff_at, tomorrow_at

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    [
        "day=9999-12-31",
        "day=0001-01-01",
        "day=9999-12-30",
        "day=2026-02-31",
        "day=%00",
        "site=abc",
        "site=99999",
    ],
)
@pytest.mark.parametrize("name", ["intake:day", "intake:week"])
def test_day_and_week_survive_hostile_days(client, staff, name, query):
    client.force_login(staff[Role.COORDINATOR])
    response = client.get(reverse(name) + "?" + query)
    assert response.status_code in (200, 400)


@pytest.mark.parametrize(
    "query",
    [
        "day=9999-12-31",
        "day=0001-01-01",
        "slot=9999-12-31T23:59:59",
        "slot=0001-01-01T00:00",
        "slot=2020-01-01T10:00&clinician=abc",
        "slot=2026-13-45T99:99",
        "slot=2026-01-01T10:00%2B99:00",
        "clinician=-1",
        "clinician=%E0%A5%A9",  # a non-ASCII digit: isdigit() but not int-able? (it is int-able)
        "clinician=²",
    ],
)
def test_appointment_new_survives_hostile_slot(client, staff, patient, query):
    client.force_login(staff[Role.COORDINATOR])
    response = client.get(reverse("intake:appointment_new", args=[patient.pk]) + "?" + query)
    assert response.status_code in (200, 400)


def test_other_sites_clinician_and_appointment_do_not_leak(client, staff, site, other_site):
    far = staff_at(other_site)
    far[Role.PHYSICIAN].last_name = "Farphysician"
    far[Role.PHYSICIAN].save()
    far_patient = PatientFactory(site=other_site, created_by=far[Role.COORDINATOR])
    far_patient.last_name = "Zebulonsecret"
    far_patient.save()
    appointment_book(
        actor=far[Role.PHYSICIAN],
        patient=far_patient,
        kind=Appointment.Kind.CONSULT,
        starts_at=tomorrow_at(11),
        clinician=far[Role.PHYSICIAN],
        notes="Secretnote",
    )
    client.force_login(staff[Role.COORDINATOR])
    day = tomorrow_at(11).date().isoformat()
    for url in (
        reverse("intake:day") + f"?day={day}",
        reverse("intake:day") + f"?day={day}&site={other_site.pk}",
        reverse("intake:week") + f"?day={day}",
        reverse("intake:week") + f"?day={day}&site={other_site.pk}",
    ):
        body = client.get(url).content.decode()
        assert "Zebulonsecret" not in body
        assert "Secretnote" not in body
        assert "Farphysician" not in body
    patient = PatientFactory(site=site, created_by=staff[Role.COORDINATOR])
    response = client.get(
        reverse("intake:appointment_new", args=[patient.pk])
        + f"?day={day}&slot={day}T11:00&clinician={far[Role.PHYSICIAN].pk}"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Farphysician" not in body
    assert "Zebulonsecret" not in body
    assert response.context["form"].initial.get("clinician") is None
