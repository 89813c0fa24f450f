"""Reads for imaging and outcomes: the measured series of a target site and its forecast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.shortcuts import get_object_or_404
from django.utils import timezone

from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import sites_for
from anagen.clinic.patients.models import Patient

from .models import GlobalPhoto, ImagingVisit, TargetSite, TrichoscopyImage


def visit_get(*, user: User, pk: int) -> ImagingVisit:
    return get_object_or_404(
        ImagingVisit.objects.filter(patient__site__in=sites_for(user=user)).select_related(
            "patient"
        ),
        pk=pk,
    )


def trichoscopy_get(*, user: User, pk: int) -> TrichoscopyImage:
    return get_object_or_404(
        TrichoscopyImage.objects.filter(
            visit__patient__site__in=sites_for(user=user)
        ).select_related("visit__patient", "target_site", "device", "corrected_by"),
        pk=pk,
    )


def photo_get(*, user: User, pk: int) -> GlobalPhoto:
    return get_object_or_404(
        GlobalPhoto.objects.filter(visit__patient__site__in=sites_for(user=user)), pk=pk
    )


@dataclass(frozen=True)
class Measurement:
    """One visit's outcome at the target site (corrected values when a clinician corrected)."""

    image_id: int
    taken_on: date
    day: int
    density_per_cm2: float
    terminal_density_per_cm2: float
    mean_diameter_um: float | None
    corrected: bool
    quality_ok: bool | None


def baseline_date(patient: Patient) -> date | None:
    """Day 0 of the outcome series: the first session, else the first trichoscopy."""
    first_session = patient.sessions.order_by("started_at").first()
    if first_session is not None:
        return timezone.localtime(first_session.started_at).date()
    first = (
        TrichoscopyImage.objects.filter(visit__patient=patient, status="analysed")
        .order_by("visit__taken_on")
        .first()
    )
    return first.visit.taken_on if first else None


def outcome_series(*, target_site: TargetSite) -> list[Measurement]:
    images = (
        TrichoscopyImage.objects.filter(target_site=target_site, status="analysed")
        .select_related("visit")
        .order_by("visit__taken_on", "pk")
    )
    day0 = baseline_date(target_site.patient)
    series = []
    for image in images:
        counts = image.corrected_counts() if image.is_corrected else None
        area = image.area_cm2 or 1.0
        series.append(
            Measurement(
                image_id=image.pk,
                taken_on=image.visit.taken_on,
                day=(image.visit.taken_on - day0).days if day0 else 0,
                density_per_cm2=counts["density_per_cm2"] if counts else image.density_per_cm2,
                terminal_density_per_cm2=(
                    counts["terminal_density_per_cm2"] if counts else image.terminal_count / area
                ),
                mean_diameter_um=image.mean_diameter_um,
                corrected=counts is not None,
                quality_ok=image.quality_ok,
            )
        )
    return series


def session_days(*, patient: Patient) -> list[int]:
    day0 = baseline_date(patient)
    if day0 is None:
        return []
    return [
        (timezone.localtime(s.started_at).date() - day0).days
        for s in patient.sessions.order_by("started_at")
    ]
