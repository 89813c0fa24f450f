from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from anagen.clinic.accounts.access import sites_for
from anagen.clinic.accounts.models import User
from anagen.clinic.patients.models import Patient

from .models import Assessment, EligibilityDecision


def assessments_for(*, patient: Patient) -> QuerySet[Assessment]:
    return patient.assessments.select_related("assessed_by", "decision")


def assessment_get(*, user: User, pk: int) -> Assessment:
    return get_object_or_404(
        Assessment.objects.filter(patient__site__in=sites_for(user=user)).select_related(
            "patient", "assessed_by", "decision"
        ),
        pk=pk,
    )


def current_decision(*, patient: Patient) -> EligibilityDecision | None:
    """The eligibility decision of the patient's latest assessment (None if never assessed).

    The latest assessment is the one that counts: a later visit that finds a contraindication
    supersedes an earlier "candidate".
    """
    return (
        EligibilityDecision.objects.filter(assessment__patient=patient)
        .select_related("assessment")
        .order_by("-assessment__assessed_at", "-assessment__pk")
        .first()
    )
