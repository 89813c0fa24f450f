"""Repeat sessions and follow-ups scheduled from the plan."""

from __future__ import annotations

from datetime import date, timedelta

from ..models import (
    ScheduledVisit,
    TreatmentPlan,
)


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
