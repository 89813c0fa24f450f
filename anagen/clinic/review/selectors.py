"""Reads of the blinded review, scoped to the reviewer's sites and blind to what they treated.

A reviewer is offered a pair when the patient belongs to a site they work at, they have not
scored it yet, and they never performed a treatment session on that patient. Anything else is a
404: a pair's token says nothing about whether it exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from anagen.clinic.accounts.access import sites_for
from anagen.clinic.assessment.models import Assessment
from anagen.clinic.imaging.models import GlobalPhoto
from anagen.clinic.patients.models import Patient
from anagen.clinic.registry.models import VisitReport
from anagen.clinic.treatment.models import Harvest, TreatmentPlan, TreatmentSession

from .models import ReviewPair

if TYPE_CHECKING:
    from anagen.clinic.accounts.models import User


def treated_by(user: User) -> QuerySet[Patient]:
    """The patients ``user`` took part in treating: assessed, planned, harvested, performed or
    verified a session, or recorded a visit report (and so saw the dated photographs). They are
    never offered to ``user`` for review: such a score would not be blinded."""
    return Patient.objects.filter(
        Q(pk__in=TreatmentSession.objects.filter(performed_by=user).values("patient_id"))
        | Q(pk__in=TreatmentSession.objects.filter(verified_by=user).values("patient_id"))
        | Q(pk__in=TreatmentPlan.objects.filter(created_by=user).values("patient_id"))
        | Q(pk__in=Harvest.objects.filter(operator=user).values("patient_id"))
        | Q(pk__in=Assessment.objects.filter(assessed_by=user).values("patient_id"))
        | Q(pk__in=VisitReport.objects.filter(recorded_by=user).values("visit__patient_id"))
    )


def pairs_visible_to(*, user: User) -> QuerySet[ReviewPair]:
    """Pairs of the reviewer's sites, leaving out the patients they treated."""
    return ReviewPair.objects.filter(patient__site__in=sites_for(user=user)).exclude(
        patient_id__in=treated_by(user).values("pk")
    )


def review_queue(*, user: User) -> QuerySet[ReviewPair]:
    """Pairs not yet scored by ``user``, in an order that says nothing about dates or patients
    (the random token)."""
    return pairs_visible_to(user=user).exclude(scores__reviewer=user).order_by("token")


def pair_get(*, user: User, token: str) -> ReviewPair:
    return get_object_or_404(
        pairs_visible_to(user=user).select_related("before", "after"), token=token
    )


def scored_by(*, user: User, pair: ReviewPair) -> bool:
    return pair.scores.filter(reviewer=user).exists()


def pair_photo(*, pair: ReviewPair, side: str) -> GlobalPhoto:
    """The photo shown on ``side`` ("left" or "right") of the pair."""
    if side not in ("left", "right"):
        raise ValueError(side)
    return pair.after if (side == "right") == pair.after_on_right else pair.before


def blinded_scores_by_visit(*, patient_id: int) -> dict[int, float]:
    """Mean after-versus-baseline score of each later visit of one patient (for the registry)."""
    from django.db.models import Avg

    rows = (
        ReviewPair.objects.filter(patient_id=patient_id, scores__isnull=False)
        .values("after__visit_id")
        .annotate(mean=Avg("scores__after_vs_before"))
    )
    return {row["after__visit_id"]: float(row["mean"]) for row in rows}
