from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from anagen.clinic.accounts.access import sites_for
from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import Perm, roles_with

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


# --- reads for the staff pages (site-scoped; 404 for other sites) ------------------------------


def consent_get(*, user: User, pk: int):
    from .models import Consent

    return get_object_or_404(
        Consent.objects.filter(plan__patient__site__in=sites_for(user=user)).select_related(
            "plan__patient", "consent_text", "witnessed_by"
        ),
        pk=pk,
    )


def session_get(*, user: User, pk: int):
    from .models import TreatmentSession

    return get_object_or_404(
        TreatmentSession.objects.filter(patient__site__in=sites_for(user=user)).select_related(
            "plan__protocol", "patient__site", "product", "performed_by", "verified_by"
        ),
        pk=pk,
    )


def consent_text_current():
    """The consent wording a new signature uses: the newest active version."""
    from .models import ConsentText

    return ConsentText.objects.filter(active=True).order_by("-created_at", "-pk").first()


def plans_for(*, patient) -> QuerySet[TreatmentPlan]:
    return TreatmentPlan.objects.filter(patient=patient).select_related("protocol")


def adverse_events_for(*, patient):
    from .models import AdverseEvent

    return AdverseEvent.objects.filter(patient=patient).select_related(
        "session", "harvest", "reported_by"
    )


def verifiers_for(*, user: User, site_id: int):
    """Physicians and nurses of the site who may verify ``user``'s session (never ``user``)."""
    from anagen.clinic.accounts.models import User as UserModel

    return (
        UserModel.objects.filter(role__in=roles_with(Perm.SESSION_VERIFY), is_active=True)
        .filter(sites__in=sites_for(user=user).filter(pk=site_id))
        .exclude(pk=user.pk)
        .distinct()
        .order_by("role", "last_name", "first_name")
    )
