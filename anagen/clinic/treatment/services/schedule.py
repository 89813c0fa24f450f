"""Repeat sessions and follow-ups scheduled from the plan."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction

from anagen.clinic.accounts.access import require_site_access
from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import Perm, require
from anagen.clinic.intake.models import Appointment
from anagen.clinic.intake.services import appointment_book

from ..models import (
    ScheduledVisit,
    TreatmentPlan,
)
from ._common import Code, _gate

#: The appointment a scheduled visit is booked as.
_APPOINTMENT_KIND = {
    ScheduledVisit.Kind.FOLLOW_UP: Appointment.Kind.FOLLOW_UP,
    ScheduledVisit.Kind.REPEAT_SESSION: Appointment.Kind.REPEAT_SESSION,
}


def visits_schedule(*, plan: TreatmentPlan, first_session_on: date) -> list[ScheduledVisit]:
    """Repeat sessions every ``interval_weeks`` and follow-ups at the protocol's days (idempotent)."""
    visits = []
    for n in range(2, plan.planned_sessions + 1):
        due = first_session_on + timedelta(weeks=plan.interval_weeks * (n - 1))
        visits.append((ScheduledVisit.Kind.REPEAT_SESSION, f"Session {n}", due, 7))
    for day, window in zip(plan.follow_up_days, plan.follow_up_window_days, strict=True):
        visits.append(
            (
                ScheduledVisit.Kind.FOLLOW_UP,
                f"Day {day}",
                first_session_on + timedelta(days=day),
                window,
            )
        )
    created = []
    for kind, label, due, window in visits:
        visit, _ = ScheduledVisit.objects.get_or_create(
            plan=plan,
            kind=kind,
            label=label,
            defaults={
                "patient": plan.patient,
                "due_on": due,
                "window_start": due - timedelta(days=window),
                "window_end": due + timedelta(days=window),
            },
        )
        created.append(visit)
    return created


@transaction.atomic
def scheduled_visit_book(
    *,
    actor: User,
    visit: ScheduledVisit,
    starts_at: datetime,
    clinician: User,
    duration_minutes: int | None = None,
    notes: str = "",
) -> Appointment:
    """Book the appointment for a scheduled follow-up or repeat session and tie it to the visit,
    so the follow-up list shows it booked. A visit whose appointment was cancelled or missed
    can be booked again; a visit with a live appointment cannot be booked twice."""
    require(actor, Perm.APPOINTMENT_BOOK)
    require_site_access(user=actor, site_id=visit.patient.site_id)
    # Locked, so two coordinators pressing "Book" at once make one appointment; only its own
    # row (PostgreSQL cannot lock the nullable side of the appointment join).
    visit = (
        ScheduledVisit.objects.select_for_update(of=("self",))
        .select_related("appointment")
        .get(pk=visit.pk)
    )
    if visit.completed:
        raise _gate("This visit has already taken place.", Code.VISIT_COMPLETED)
    if visit.appointment is not None and visit.appointment.status in Appointment.ACTIVE:
        when = visit.appointment.starts_at
        raise _gate(
            f"{visit.label} is already booked for {when:%d %b %Y %H:%M}.",
            Code.VISIT_ALREADY_BOOKED,
        )
    appointment = appointment_book(
        actor=actor,
        patient=visit.patient,
        kind=_APPOINTMENT_KIND[ScheduledVisit.Kind(visit.kind)],
        starts_at=starts_at,
        clinician=clinician,
        duration_minutes=duration_minutes,
        notes=notes or visit.label,
    )
    visit.appointment = appointment
    visit.save(update_fields=["appointment"])
    return appointment
