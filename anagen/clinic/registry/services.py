"""Writes of the registry: the visit report, and rebuilding a patient's outcome rows.

The outcome table is derived from the clinical records (analysed trichoscopy and its
correction, visit reports, sessions, adverse events, the assessment, the plan). It is rebuilt
per patient, whole, inside one transaction whenever one of those changes (``receivers.py``
enqueues it after the change commits), so a row is never half old and half new.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from anagen.clinic.accounts.access import require_site_access
from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import Perm, require
from anagen.clinic.common import clock
from anagen.clinic.imaging.models import ImagingVisit, MatchedChange, TrichoscopyImage
from anagen.clinic.imaging.selectors import baseline_date
from anagen.clinic.patients.models import Patient
from anagen.clinic.review.selectors import blinded_scores_by_visit
from anagen.trichometry.change import count_change_at_least

from .measures import nearest_window, split_counts, terminal_min_um
from .models import OutcomeRecord, VisitReport


def _age_years(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _stage(patient: Patient, before: date) -> str:
    assessment = (
        patient.assessments.filter(assessed_at__date__lte=before).order_by("-assessed_at").first()
        or patient.assessments.order_by("assessed_at").first()
    )
    if assessment is None:
        return ""
    if assessment.norwood:
        return f"Norwood {assessment.norwood}"
    if assessment.ludwig:
        return f"Ludwig {assessment.ludwig}"
    return ""


def _terminal_change(pair: MatchedChange | None, threshold_um: float) -> float | None:
    """The matched change of terminal hairs (shaft >= ``threshold_um``) per cm², or None."""
    if pair is None or not pair.result or not pair.common_area_cm2:
        return None
    hairs = pair.result.get("hairs")
    if not hairs:
        return None
    return count_change_at_least(hairs, threshold_um) / pair.common_area_cm2


@transaction.atomic
def outcomes_refresh(*, patient: Patient) -> int:
    """Rebuild ``patient``'s outcome rows from the clinical records; returns the row count."""
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    OutcomeRecord.objects.filter(patient=patient).delete()
    day0 = baseline_date(patient)
    if day0 is None:
        return 0
    analysed = TrichoscopyImage.objects.filter(
        visit__patient=patient, status=TrichoscopyImage.Status.ANALYSED
    )
    # A phototrichogram re-image (day 2/3) is no visit of its own: its anagen fraction
    # belongs to the row of its day-0 image (the latest measured re-image counts).
    images = list(
        analysed.filter(regrowth_of__isnull=True)
        .select_related("visit", "target_site")
        .order_by("visit__taken_on", "pk")
    )
    anagen = dict(
        analysed.filter(regrowth_of__isnull=False, anagen_fraction__isnull=False)
        .order_by("uploaded_at", "pk")
        .values_list("regrowth_of_id", "anagen_fraction")
    )
    matched = {
        m.followup_id: m
        for m in MatchedChange.objects.filter(
            followup__visit__patient=patient,
            reference_kind=MatchedChange.Reference.BASELINE,
            status=MatchedChange.Status.MATCHED,
        )
    }
    blinded = blinded_scores_by_visit(patient_id=patient.pk)
    sessions = [
        (timezone.localtime(s.started_at).date(), s.total_cells, "prp" in (s.adjuncts or []))
        for s in patient.sessions.order_by("started_at")
    ]
    first_session = sessions[0][0] if sessions else None
    plan = patient.plans.select_related("protocol").order_by("created_at").first()
    events = sorted(e.onset_on for e in patient.adverse_events.all())
    reports = {r.visit_id: r for r in VisitReport.objects.filter(visit__patient=patient)}
    threshold = terminal_min_um()
    stage = _stage(patient, day0)
    age = _age_years(patient.date_of_birth, day0)
    now = clock.now()
    rows = []
    for image in images:
        taken = image.visit.taken_on
        area = image.area_cm2 or 1.0
        auto = split_counts(image, corrected=False, threshold_um=threshold)
        used = (
            split_counts(image, corrected=True, threshold_um=threshold)
            if image.is_corrected
            else auto
        )
        given = [s for s in sessions if s[0] <= taken]
        report = reports.get(image.visit_id)
        day = (taken - day0).days
        pair = matched.get(image.pk)
        rows.append(
            OutcomeRecord(
                patient=patient,
                site_id=patient.site_id,
                visit_id=image.visit_id,
                target_site_id=image.target_site_id,
                image=image,
                taken_on=taken,
                visit_day=day,
                days_since_first_session=(taken - first_session).days if first_session else None,
                window_day=nearest_window(day),
                density_per_cm2=used.total / area,
                terminal_density_per_cm2=used.terminal / area,
                vellus_density_per_cm2=used.vellus / area,
                density_auto_per_cm2=auto.total / area,
                terminal_density_auto_per_cm2=auto.terminal / area,
                vellus_density_auto_per_cm2=auto.vellus / area,
                corrected=image.is_corrected,
                mean_diameter_um=image.mean_diameter_um,
                cumulative_thickness_mm_per_cm2=image.cumulative_thickness_mm_per_cm2,
                anagen_fraction=anagen.get(image.pk),
                matched_change_per_cm2=pair.density_change_per_cm2 if pair else None,
                matched_terminal_change_per_cm2=_terminal_change(pair, threshold),
                matched_persisting=pair.persisting if pair else None,
                matched_lost=pair.lost if pair else None,
                matched_new=pair.new if pair else None,
                quality_ok=image.quality_ok,
                algorithm_version=image.algorithm_version,
                pull_test_hairs=report.pull_test_hairs if report else None,
                satisfaction=report.satisfaction if report else None,
                shedding=report.shedding if report else None,
                global_assessment=report.global_assessment if report else None,
                blinded_review_score=blinded.get(image.visit_id),
                age_years=age,
                sex=patient.sex,
                stage=stage,
                protocol=plan.protocol.name if plan else "",
                method=plan.method if plan else "",
                prp=any(s[2] for s in given),
                sessions_to_date=len(given),
                cells_to_date=sum(s[1] for s in given),
                adverse_events_to_date=sum(1 for onset in events if onset <= taken),
                zone=image.target_site.zone,
                refreshed_at=now,
            )
        )
    OutcomeRecord.objects.bulk_create(rows)
    return len(rows)


@transaction.atomic
def visit_report_record(
    *,
    actor: User,
    visit: ImagingVisit,
    pull_test_hairs: int | None,
    satisfaction: int | None,
    shedding: int | None,
    global_assessment: int | None,
) -> VisitReport:
    """Record (or update) what a follow-up visit adds beyond its images."""
    require(actor, Perm.IMAGING_CAPTURE)
    require_site_access(user=actor, site_id=visit.patient.site_id)
    report = VisitReport.objects.select_for_update().filter(visit=visit).first()
    stored = report.global_assessment if report is not None else None
    if global_assessment != stored:
        # The investigator's global photographic assessment is a physician's judgement; other
        # staff record the rest of the report and leave the physician's score as it is.
        require(actor, Perm.GLOBAL_ASSESSMENT_RECORD)
    if report is None:
        report = VisitReport(visit_id=visit.pk, recorded_by=actor)
    report.pull_test_hairs = pull_test_hairs
    report.satisfaction = satisfaction
    report.shedding = shedding
    report.global_assessment = global_assessment
    report.full_clean()
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        # Another request saved this visit's first report between our read and our insert:
        # refuse rather than fail or overwrite what it saved.
        raise ValidationError(
            "Someone else saved this visit's report at the same moment. Reload the page to see "
            "it, then make your changes again.",
            code="report_saved_concurrently",
        ) from None
    return report
