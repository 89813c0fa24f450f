"""The follow-up list: filters, paging, and "Book" tied to the scheduled visit with its date
prefilled, so a booked visit leaves the "to book" list (and is never booked twice)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.common import clock
from anagen.clinic.common.forms import submission_token_input
from anagen.clinic.intake.models import Appointment
from anagen.clinic.intake.services import appointment_set_status
from anagen.clinic.treatment import selectors, services
from anagen.clinic.treatment.error_codes import TreatmentErrorCode as Code
from anagen.clinic.treatment.models import ScheduledVisit
from anagen.clinic.treatment.selectors import FollowUpFilter
from tests.clinic.refusals import raises_code
from tests.clinic.treatment_helpers import administer, released_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def visits(team, plan):
    physician, nurse, lab = team
    administer(physician, nurse, plan, released_product(physician, lab, plan))
    return ScheduledVisit.objects.filter(plan=plan).order_by("due_on")


def _book(actor, visit, physician):
    return services.scheduled_visit_book(
        actor=actor,
        visit=visit,
        starts_at=selectors.suggested_start(visit=visit, today=clock.localdate()),
        clinician=physician,
    )


def test_booking_ties_the_appointment_to_the_visit_once(staff, team, visits):
    physician = team[0]
    coordinator = staff[Role.COORDINATOR]
    visit = visits.filter(kind=ScheduledVisit.Kind.FOLLOW_UP).first()
    appointment = _book(coordinator, visit, physician)
    visit.refresh_from_db()
    assert visit.appointment == appointment
    assert appointment.kind == Appointment.Kind.FOLLOW_UP
    assert appointment.starts_at.date() == visit.due_on  # prefilled in the window
    today = clock.localdate()
    booked = selectors.follow_up_list(user=coordinator, today=today)
    assert booked.get(pk=visit.pk).state == "booked"
    with raises_code(Code.VISIT_ALREADY_BOOKED):
        _book(coordinator, visit, physician)
    assert Appointment.objects.filter(patient=visit.patient, kind="follow_up").count() == 1
    # A cancelled appointment frees the visit for a new booking.
    appointment_set_status(actor=coordinator, appointment=appointment, status="cancelled")
    assert selectors.follow_up_list(user=coordinator, today=today).get(pk=visit.pk).state != (
        "booked"
    )
    assert _book(coordinator, visit, physician) != appointment


def test_a_completed_visit_or_another_role_cannot_book(staff, team, visits):
    visit = visits.first()
    with pytest.raises(PermissionDenied):
        _book(staff[Role.LAB_TECHNICIAN], visit, team[0])
    ScheduledVisit.objects.filter(pk=visit.pk).update(completed=True)
    with raises_code(Code.VISIT_COMPLETED):
        _book(staff[Role.COORDINATOR], visit, team[0])


def test_filters_and_paging(client, staff, team, visits, other_site):
    coordinator = staff[Role.COORDINATOR]
    today = clock.localdate()
    everything = selectors.follow_up_list(user=coordinator, today=today)
    assert everything.count() == visits.count() > 2
    soon = selectors.follow_up_list(
        user=coordinator, today=today, filters=FollowUpFilter(due_within_days=30)
    )
    assert all((v.due_on - today).days <= 30 for v in soon) and soon.count() < visits.count()
    assert not selectors.follow_up_list(
        user=coordinator, today=today, filters=FollowUpFilter(site_id=other_site.pk)
    ).exists()
    client.force_login(coordinator)
    url = reverse("treatment:follow_ups")
    page = client.get(url, {"state": "upcoming", "due_within": "30"}).content.decode()
    assert page.count('class="button secondary"') == soon.count()
    # Unknown filter values are ignored, not a server error.
    assert client.get(url, {"state": "nonsense", "site": "x", "page": "999"}).status_code == 200


def test_book_page_prefills_and_books(client, staff, team, visits):
    coordinator = staff[Role.COORDINATOR]
    visit = visits.filter(kind=ScheduledVisit.Kind.FOLLOW_UP).first()
    client.force_login(coordinator)
    url = reverse("treatment:follow_up_book", args=[visit.pk])
    form = client.get(url).context["form"]
    assert form.initial["starts_at"].date() == visit.due_on
    assert form.initial["clinician"] == visit.plan.created_by
    response = client.post(
        url,
        {
            "starts_at": form.initial["starts_at"].strftime("%Y-%m-%dT%H:%M"),
            "clinician": team[0].pk,
            "form_token": submission_token_input(),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    visit.refresh_from_db()
    assert visit.appointment is not None
    listing = client.get(reverse("treatment:follow_ups")).content.decode()
    assert reverse("treatment:follow_up_book", args=[visit.pk]) not in listing
