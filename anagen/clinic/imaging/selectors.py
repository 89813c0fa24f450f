"""Reads for imaging and outcomes: the measured series of a target site and its forecast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any, cast

from django.db.models import QuerySet
from django.db.models.fields.files import FieldFile
from django.shortcuts import get_object_or_404
from django.utils import timezone

from anagen.clinic.accounts.access import sites_for
from anagen.clinic.accounts.models import User
from anagen.clinic.common import clock
from anagen.clinic.patients.models import Patient

from .models import GlobalPhoto, ImagingVisit, MatchedChange, TargetSite, TrichoscopyImage

if TYPE_CHECKING:
    from anagen.clinic.registry.models import VisitReport

#: A phototrichogram re-image is taken 1–4 days after its day-0 image (the service's rule).
REGROWTH_DAYS = (1, 4)


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


def _marker_point(polyline: list[list[float]]) -> tuple[float, float]:
    """The point halfway along a hair's centreline (where its marker is drawn)."""
    if len(polyline) == 1:
        return polyline[0][0], polyline[0][1]
    steps = [((bx - ax) ** 2 + (by - ay) ** 2) ** 0.5 for (ax, ay), (bx, by) in pairwise(polyline)]
    left = sum(steps) / 2
    for ((ax, ay), (bx, by)), step in zip(pairwise(polyline), steps, strict=True):
        if step >= left and step > 0:
            t = left / step
            return ax + t * (bx - ax), ay + t * (by - ay)
        left -= step
    return polyline[-1][0], polyline[-1][1]


def correction_viewer(record: TrichoscopyImage) -> dict[str, Any] | None:
    """What the click-to-correct viewer draws: the counted hairs (kind by the same rule as
    ``corrected_counts``) with their centrelines and marker points in image pixels, the image
    size, the counting frame and the automatic counts. ``None`` before an analysis."""
    if record.status != TrichoscopyImage.Status.ANALYSED or record.result is None:
        return None
    height, width = record.result["image_shape"][:2]
    hairs = []
    for hair, kind in record.counted_hairs():
        polyline = hair["polyline"]
        x, y = _marker_point(polyline) if polyline else (0.0, 0.0)
        hairs.append(
            {
                "id": hair["id"],
                "kind": kind,
                "diameter_um": hair["diameter_um"],
                "x": round(x, 1),
                "y": round(y, 1),
                "points": polyline[:: max(1, len(polyline) // 40)] + polyline[-1:],
            }
        )
    return {
        "width": width,
        "height": height,
        "area_cm2": record.area_cm2,
        "frame": record.result.get("counting_frame"),
        "automatic": {
            "total": record.hair_count,
            "terminal": record.terminal_count,
            "vellus": record.vellus_count,
            "density": record.density_per_cm2,
        },
        "hairs": hairs,
    }


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
    """Day 0 of the outcome series: the earlier of the first session and the first trichoscopy.

    The baseline imaging visit normally comes before the first session, and the follicle model
    counts every visit and session from day 0, so nothing may fall before it.
    """
    candidates = []
    first_session = patient.sessions.order_by("started_at").first()
    if first_session is not None:
        candidates.append(timezone.localtime(first_session.started_at).date())
    first = (
        TrichoscopyImage.objects.filter(visit__patient=patient, status="analysed")
        .order_by("visit__taken_on")
        .values_list("visit__taken_on", flat=True)
        .first()
    )
    if first is not None:
        candidates.append(first)
    return min(candidates) if candidates else None


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
        # status "analysed": the analysis stored the counts, so the nullable columns are set
        terminal = cast(int, image.terminal_count)
        density = cast(float, counts["density_per_cm2"] if counts else image.density_per_cm2)
        series.append(
            Measurement(
                image_id=image.pk,
                taken_on=image.visit.taken_on,
                day=(image.visit.taken_on - day0).days if day0 else 0,
                density_per_cm2=density,
                terminal_density_per_cm2=(
                    counts["terminal_density_per_cm2"] if counts else terminal / area
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


#: Plans whose remaining sessions are still expected (completed or cancelled plans are not).
_OPEN_PLAN_STATUSES = ("awaiting_consent", "consented", "in_treatment")


def further_session_days(*, patient: Patient, today: date | None = None) -> list[int]:
    """Days (from baseline) of the sessions the open plan still expects; [] when none.

    Only sessions a plan actually provides for are forecast: no plan, or a plan whose
    ``planned_sessions`` are all given, means no "with further sessions" scenario. The next one
    falls one plan interval after the last session (or tomorrow, when that is already past),
    then every interval.
    """
    day0 = baseline_date(patient)
    plan = patient.plans.filter(status__in=_OPEN_PLAN_STATUSES).order_by("-created_at").first()
    if day0 is None or plan is None:
        return []
    remaining = plan.planned_sessions - plan.sessions.count()
    if remaining <= 0:
        return []
    interval = 7 * plan.interval_weeks
    today_day = ((today or clock.localdate()) - day0).days
    past = session_days(patient=patient)
    # Never on or before the latest data day: the model treats those as already happened.
    next_day = max(today_day + 1, past[-1] + interval if past else 0)
    return [next_day + k * interval for k in range(remaining)]


def visit_report(*, visit: ImagingVisit) -> VisitReport | None:
    """The follow-up report of a visit the caller already fetched through ``visit_get``."""
    from anagen.clinic.registry.models import VisitReport

    return VisitReport.objects.filter(visit=visit).select_related("recorded_by").first()


def day0_candidates(*, visit: ImagingVisit) -> QuerySet[TrichoscopyImage]:
    """The patient's images a re-image at ``visit`` may pair with: 1–4 days earlier, not
    re-images themselves (the upload service checks the pair again)."""
    first, last = REGROWTH_DAYS
    return (
        TrichoscopyImage.objects.filter(
            visit__patient_id=visit.patient_id,
            visit__taken_on__gte=visit.taken_on - timedelta(days=last),
            visit__taken_on__lte=visit.taken_on - timedelta(days=first),
            regrowth_of__isnull=True,
        )
        .exclude(status=TrichoscopyImage.Status.FAILED)
        .select_related("visit", "target_site")
        .order_by("-visit__taken_on", "-pk")
    )


def matched_changes(*, visit: ImagingVisit) -> list[MatchedChange]:
    """The hair-to-hair comparisons of this visit's trichoscopy images with earlier ones.

    The caller has already read ``visit`` through :func:`visit_get` (site scoping); baseline
    first, then the previous visit, per image.
    """
    return list(
        MatchedChange.objects.filter(followup__visit=visit)
        .select_related("reference__visit", "followup__target_site")
        .order_by("followup_id", "reference_kind")
    )


def matched_overlay(*, record: TrichoscopyImage, kind: str) -> FieldFile | None:
    """The stored overlay of ``record`` matched to its ``kind`` reference (None: none)."""
    match = MatchedChange.objects.filter(followup=record, reference_kind=kind).first()
    return match.overlay if match is not None and match.overlay else None
