from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from anagen.clinic.accounts.models import User
from anagen.clinic.patients.selectors import sites_for

from .models import CellProduct, ScheduledVisit, TreatmentPlan


def plan_get(*, user: User, pk: int) -> TreatmentPlan:
    return get_object_or_404(
        TreatmentPlan.objects.filter(patient__site__in=sites_for(user=user)).select_related(
            "patient", "protocol"
        ),
        pk=pk,
    )


def product_get(*, user: User, pk: int) -> CellProduct:
    return get_object_or_404(
        CellProduct.objects.filter(patient__site__in=sites_for(user=user)).select_related(
            "patient", "harvest__plan__protocol"
        ),
        pk=pk,
    )


def lab_bench(*, user: User) -> QuerySet[CellProduct]:
    """Products the lab is working on or holding, oldest first."""
    return (
        CellProduct.objects.filter(patient__site__in=sites_for(user=user))
        .filter(status__in=["in_processing", "quarantine", "released", "stored", "thawed"])
        .select_related("patient", "harvest")
        .order_by("expires_at")
    )


def visits_due(*, user: User, today: date) -> dict[str, QuerySet[ScheduledVisit]]:
    """Follow-ups and repeat sessions whose window is open (due) or has passed (overdue)."""
    base = ScheduledVisit.objects.filter(
        patient__site__in=sites_for(user=user), completed=False
    ).select_related("patient", "appointment")
    return {
        "overdue": base.filter(window_end__lt=today),
        "due": base.filter(window_start__lte=today, window_end__gte=today),
        "upcoming": base.filter(window_start__gt=today).filter(Q(appointment__isnull=True))[:50],
    }
