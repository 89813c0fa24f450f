"""Who is free when: the day and week views show each clinician's free slots, and booking picks
a free slot (the form is filled with that time and clinician)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from anagen.clinic.accounts.roles import Role
from anagen.clinic.intake import selectors
from anagen.clinic.intake.models import Appointment
from tests.clinic.conftest import make_user
from tests.clinic.factories import AppointmentFactory, PatientFactory, tomorrow_at

pytestmark = pytest.mark.django_db


def _free(user, clinician, day, site=None):
    days = selectors.clinician_days(user=user, day=day, site_id=site.pk if site else None)
    return next(d.free for d in days if d.clinician == clinician)


def test_the_grid_of_a_day(settings):
    settings.ANAGEN_CLINIC_DAY, settings.ANAGEN_SLOT_MINUTES = ("09:00", "17:30"), 30
    slots = selectors.slots_of(timezone.localdate() + timedelta(days=1))
    assert len(slots) == 17 and slots[0].hour == 9 and slots[-1].strftime("%H:%M") == "17:00"


def test_a_booked_or_elsewhere_busy_clinician_is_not_free(staff, site, other_site, patient):
    coordinator, physician = staff[Role.COORDINATOR], staff[Role.PHYSICIAN]
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert tomorrow_at(10) in _free(coordinator, physician, tomorrow)
    booked = AppointmentFactory(patient=patient, clinician=physician, starts_at=tomorrow_at(10))
    free = _free(coordinator, physician, tomorrow)
    assert not any(booked.starts_at <= s < booked.ends_at for s in free)
    assert booked.starts_at - timedelta(minutes=30) in free
    assert min(s for s in free if s > booked.starts_at) - booked.ends_at < timedelta(minutes=30)
    # Busy at a site this coordinator cannot see: still not free, and nothing of it shown.
    physician.sites.add(other_site)
    elsewhere = PatientFactory(site=other_site)
    AppointmentFactory(patient=elsewhere, clinician=physician, starts_at=tomorrow_at(14))
    day = next(
        d
        for d in selectors.clinician_days(user=coordinator, day=tomorrow)
        if d.clinician == physician
    )
    assert tomorrow_at(14) not in day.free
    assert all(a.patient.site == site for a in day.appointments)
    # A cancelled appointment frees its time again.
    Appointment.objects.filter(patient=elsewhere).update(status=Appointment.Status.CANCELLED)
    assert tomorrow_at(14) in _free(coordinator, physician, tomorrow)


def test_booking_picks_a_free_slot(client, staff, patient):
    coordinator, physician = staff[Role.COORDINATOR], staff[Role.PHYSICIAN]
    client.force_login(coordinator)
    url = reverse("intake:appointment_new", args=[patient.pk])
    tomorrow = timezone.localdate() + timedelta(days=1)
    page = client.get(url, {"day": tomorrow.isoformat()})
    html = page.content.decode()
    assert f"clinician={physician.pk}" in html and 'class="slot-pick"' in html
    slot = tomorrow_at(11)
    form = client.get(
        url, {"day": tomorrow.isoformat(), "slot": slot.isoformat(), "clinician": physician.pk}
    ).context["form"]
    assert form.initial["starts_at"] == slot and form.initial["clinician"] == physician.pk
    # Hostile or broken parameters are ignored.
    outsider = make_user(Role.PHYSICIAN)
    for params in (
        {"slot": "garbage", "clinician": "x", "day": "2026-02-31"},
        {"slot": "2026-13-40T99:99", "clinician": outsider.pk},
    ):
        response = client.get(url, params)
        assert response.status_code == 200
        assert "starts_at" not in response.context["form"].initial
        assert "clinician" not in response.context["form"].initial


def test_day_and_week_views(client, staff, patient):
    physician = staff[Role.PHYSICIAN]
    booked = AppointmentFactory(patient=patient, clinician=physician, starts_at=tomorrow_at(10))
    client.force_login(staff[Role.COORDINATOR])
    tomorrow = timezone.localdate() + timedelta(days=1)
    day = client.get(reverse("intake:day"), {"day": tomorrow.isoformat()}).content.decode()
    after = next(s for s in selectors.slots_of(tomorrow) if s >= booked.ends_at)
    assert f"Free: 09:00, 09:30, {timezone.localtime(after):%H:%M}," in day
    week = client.get(reverse("intake:week"), {"day": tomorrow.isoformat()})
    assert week.status_code == 200
    html = week.content.decode()
    assert html.count('<th scope="col"><a href="/day/?day=') == 7
    assert "1 booked" in html
