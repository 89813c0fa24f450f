"""Reads of the progress page and report: the measured series from the outcome table, the
forecast's inputs and their fingerprint, the stored snapshot, photos for before/after."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from anagen.clinic.accounts.models import User
from anagen.clinic.imaging.models import GlobalPhoto, ImagingVisit, TargetSite
from anagen.clinic.imaging.selectors import further_session_days, session_days
from anagen.clinic.patients.models import Patient
from anagen.clinic.patients.selectors import patient_get
from anagen.clinic.registry.measures import outcome_windows, terminal_min_um
from anagen.clinic.registry.models import OutcomeRecord
from anagen.clinic.treatment.models import AdverseEvent

from .models import ProgressSnapshot

#: Version of what the job computes (forecast settings, calibration, plot layout). Bump it when
#: any of them changes: every stored snapshot then reads as outdated and is recomputed.
MODEL_VERSION = "follicles-forecast/2 (baseline-anchored diameter, 300 members, 730 days)"


@dataclass(frozen=True)
class Point:
    """One measured visit at a target site: a row of the outcome table."""

    image_id: int
    taken_on: date
    day: int
    window_day: int | None
    density_per_cm2: float
    terminal_density_per_cm2: float
    mean_diameter_um: float | None
    anagen_fraction: float | None
    corrected: bool
    quality_ok: bool | None
    algorithm_version: str
    # The engine's own values, shown beside a clinician's correction
    density_auto_per_cm2: float | None = None
    terminal_density_auto_per_cm2: float | None = None


@dataclass(frozen=True)
class ForecastInputs:
    """Everything the forecast and the plot of one site are computed from."""

    site_id: int
    zone: str
    years_since_onset: float
    points: tuple[Point, ...]
    session_days: tuple[int, ...]
    further_session_days: tuple[int, ...]
    terminal_min_um: float
    windows: tuple[int, ...]
    model_version: str
    algorithm_versions: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["points"] = [{**asdict(p), "taken_on": p.taken_on.isoformat()} for p in self.points]
        return data

    @property
    def fingerprint(self) -> str:
        text = json.dumps(self.as_json(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def site_points(*, target_site: TargetSite) -> list[Point]:
    """The measured series of ``target_site`` from the outcome table (terminal at the registry's
    threshold, the clinician's correction where there is one)."""
    rows = OutcomeRecord.objects.filter(target_site=target_site).order_by("taken_on", "image_id")
    return [
        Point(
            image_id=r.image_id,
            taken_on=r.taken_on,
            day=r.visit_day,
            window_day=r.window_day,
            density_per_cm2=r.density_per_cm2,
            terminal_density_per_cm2=r.terminal_density_per_cm2,
            mean_diameter_um=r.mean_diameter_um,
            anagen_fraction=r.anagen_fraction,
            corrected=r.corrected,
            quality_ok=r.quality_ok,
            algorithm_version=r.algorithm_version,
            density_auto_per_cm2=r.density_auto_per_cm2,
            terminal_density_auto_per_cm2=r.terminal_density_auto_per_cm2,
        )
        for r in rows
    ]


def years_since_onset(patient: Patient) -> float:
    assessment = patient.assessments.order_by("-assessed_at").first()
    if assessment and assessment.loss_duration_months:
        return max(0.5, assessment.loss_duration_months / 12)
    return 5.0


def forecast_inputs(
    *,
    target_site: TargetSite,
    points: list[Point] | None = None,
    sessions: list[int] | None = None,
    further: list[int] | None = None,
) -> ForecastInputs:
    """The inputs of ``target_site``'s forecast as they are now (a handful of queries)."""
    patient = target_site.patient
    points = site_points(target_site=target_site) if points is None else points
    sessions = session_days(patient=patient) if sessions is None else sessions
    further = further_session_days(patient=patient) if further is None else further
    return ForecastInputs(
        site_id=target_site.pk,
        zone=target_site.zone,
        years_since_onset=years_since_onset(patient),
        points=tuple(points),
        session_days=tuple(sessions),
        further_session_days=tuple(further),
        terminal_min_um=terminal_min_um(),
        windows=outcome_windows(),
        model_version=MODEL_VERSION,
        algorithm_versions=tuple(sorted({p.algorithm_version for p in points})),
    )


@dataclass(frozen=True)
class SiteProgress:
    """What the page shows for one target site."""

    site: TargetSite
    points: list[Point]
    snapshot: ProgressSnapshot | None
    fingerprint: str

    @property
    def current(self) -> bool:
        """The stored forecast and plot were computed from today's inputs."""
        return self.snapshot is not None and self.snapshot.fingerprint == self.fingerprint

    @property
    def updating(self) -> bool:
        return bool(self.points) and not self.current


def site_progress(*, patient: Patient) -> list[SiteProgress]:
    """Every target site of ``patient`` with its measured series and stored snapshot.

    The snapshot's heavy columns (the PNG) are not read here; the plot has its own URL.
    """
    sessions = session_days(patient=patient)
    further = further_session_days(patient=patient)
    snapshots = {
        s.target_site_id: s
        for s in ProgressSnapshot.objects.filter(patient=patient).defer("plot_png", "inputs")
    }
    result = []
    for site in patient.target_sites.order_by("created_at", "pk"):
        site.patient = patient  # already loaded: saves a query per site
        points = site_points(target_site=site)
        fingerprint = (
            forecast_inputs(
                target_site=site, points=points, sessions=sessions, further=further
            ).fingerprint
            if points
            else ""
        )
        result.append(
            SiteProgress(
                site=site, points=points, snapshot=snapshots.get(site.pk), fingerprint=fingerprint
            )
        )
    return result


def progress_patient_get(*, user: User, pk: int) -> Patient:
    return patient_get(user=user, pk=pk)


def target_site_get(*, user: User, patient_pk: int, site_pk: int) -> TargetSite:
    patient = patient_get(user=user, pk=patient_pk)
    return get_object_or_404(patient.target_sites.select_related("patient"), pk=site_pk)


def snapshot_plot(*, target_site: TargetSite) -> bytes:
    """The stored plot of ``target_site`` (404 when none was computed yet)."""
    snapshot = ProgressSnapshot.objects.filter(target_site=target_site).only("plot_png").first()
    if snapshot is None or not snapshot.plot_png:
        raise Http404("No plot yet")
    return bytes(snapshot.plot_png)


def adverse_events(*, patient: Patient) -> QuerySet[AdverseEvent]:
    return patient.adverse_events.select_related("session", "harvest").order_by("onset_on")


def imaging_visits(*, patient: Patient) -> QuerySet[ImagingVisit]:
    return patient.imaging_visits.order_by("taken_on", "pk").prefetch_related("photos")


@dataclass(frozen=True)
class Comparison:
    """The same standardized view at baseline and at a later visit."""

    view: str
    view_label: str
    before: GlobalPhoto
    after: GlobalPhoto


def photo_views(*, patient: Patient) -> list[tuple[str, str]]:
    """The standardized views photographed at least twice (so there is a before and after)."""
    taken = (
        GlobalPhoto.objects.filter(visit__patient=patient)
        .values_list("view", flat=True)
        .order_by("view")
    )
    counts: dict[str, int] = {}
    for view in taken:
        counts[view] = counts.get(view, 0) + 1
    return [(v, label) for v, label in GlobalPhoto.View.choices if counts.get(v, 0) >= 2]


def comparison(
    *, patient: Patient, view: str | None = None, visit_pk: int | None = None
) -> Comparison | None:
    """Baseline against a later visit for one view; None when there is no such pair.

    Defaults: the first view photographed twice, and the latest visit with that view. A visit
    of another patient (or site) is not found (404), never shown.
    """
    views = dict(photo_views(patient=patient))
    if view is None:
        view = next(iter(views), None)
    elif view not in dict(GlobalPhoto.View.choices):
        raise Http404("No such view")
    if view is None or view not in views:
        return None
    photos = GlobalPhoto.objects.filter(visit__patient=patient, view=view).select_related("visit")
    ordered = list(photos.order_by("visit__taken_on", "visit_id"))
    before = ordered[0]
    if visit_pk is None:
        after = ordered[-1]
    else:
        visit = get_object_or_404(ImagingVisit.objects.filter(patient=patient), pk=visit_pk)
        found = next((p for p in ordered if p.visit_id == visit.pk), None)
        if found is None or found.pk == before.pk:
            return None
        after = found
    return Comparison(view=view, view_label=views[view], before=before, after=after)


def report_pairs(*, patient: Patient) -> list[Comparison]:
    """Baseline against the latest photo for every view photographed twice (the report)."""
    pairs = [comparison(patient=patient, view=v) for v, _ in photo_views(patient=patient)]
    return [p for p in pairs if p is not None]
