"""Reads of the registry: the outcome table as a tidy DataFrame for ``anagen.evidence``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from django.db.models import QuerySet

from anagen.clinic.accounts.access import sites_for
from anagen.clinic.accounts.models import User

from .models import OutcomeRecord

#: Columns of the tidy table, in order (the evidence library needs patient_id and visit_day).
OUTCOME_COLUMNS = (
    "patient_id",
    "site_id",
    "visit_day",
    "days_since_first_session",
    "window_day",
    "taken_on",
    "zone",
    "density_per_cm2",
    "terminal_density_per_cm2",
    "vellus_density_per_cm2",
    "density_auto_per_cm2",
    "terminal_density_auto_per_cm2",
    "vellus_density_auto_per_cm2",
    "corrected",
    "mean_diameter_um",
    "cumulative_thickness_mm_per_cm2",
    "anagen_fraction",
    "quality_ok",
    "pull_test_hairs",
    "satisfaction",
    "shedding",
    "global_assessment",
    "age_years",
    "sex",
    "stage",
    "protocol",
    "method",
    "prp",
    "sessions_to_date",
    "cells_to_date",
    "adverse_events_to_date",
    "algorithm_version",
)


@dataclass(frozen=True)
class Cohort:
    """Who is in a cohort: every field narrows it; None means "any"."""

    sex: str | None = None
    age_min: int | None = None
    age_max: int | None = None
    stage: str | None = None
    protocol: str | None = None
    prp: bool | None = None
    cells_min: int | None = None
    cells_max: int | None = None
    baseline_from: date | None = None
    baseline_to: date | None = None
    site_id: int | None = None
    zone: str | None = None


def outcome_records(*, user: User, cohort: Cohort | None = None) -> QuerySet[OutcomeRecord]:
    """The outcome rows of the sites ``user`` works at, narrowed to ``cohort``.

    Patient-level criteria (age, sex, stage, protocol, baseline date) are those at baseline;
    cell dose and PRP are the patient's totals over all visits, so a patient is in or out of a
    cohort as a whole, never with only some of their visits.
    """
    rows = OutcomeRecord.objects.filter(site__in=sites_for(user=user))
    cohort = cohort or Cohort()
    if cohort.site_id is not None:
        rows = rows.filter(site_id=cohort.site_id)
    if cohort.zone:
        rows = rows.filter(zone=cohort.zone)
    patients = rows.filter(visit_day=0)
    if cohort.sex:
        patients = patients.filter(sex=cohort.sex)
    if cohort.age_min is not None:
        patients = patients.filter(age_years__gte=cohort.age_min)
    if cohort.age_max is not None:
        patients = patients.filter(age_years__lte=cohort.age_max)
    if cohort.stage:
        patients = patients.filter(stage=cohort.stage)
    if cohort.protocol:
        patients = patients.filter(protocol=cohort.protocol)
    if cohort.baseline_from:
        patients = patients.filter(taken_on__gte=cohort.baseline_from)
    if cohort.baseline_to:
        patients = patients.filter(taken_on__lte=cohort.baseline_to)
    rows = rows.filter(patient_id__in=patients.values("patient_id"))
    if cohort.prp is not None:
        with_prp = rows.filter(prp=True).values("patient_id")
        rows = (
            rows.filter(patient_id__in=with_prp)
            if cohort.prp
            else rows.exclude(patient_id__in=with_prp)
        )
    if cohort.cells_min is not None or cohort.cells_max is not None:
        from django.db.models import Max

        totals = rows.values("patient_id").annotate(total=Max("cells_to_date"))
        if cohort.cells_min is not None:
            totals = totals.filter(total__gte=cohort.cells_min)
        if cohort.cells_max is not None:
            totals = totals.filter(total__lte=cohort.cells_max)
        rows = rows.filter(patient_id__in=totals.values("patient_id"))
    return rows


def outcome_frame(*, user: User, cohort: Cohort | None = None) -> pd.DataFrame:
    """The cohort's outcome table: one row per visit × target site, ``OUTCOME_COLUMNS``."""
    values = outcome_records(user=user, cohort=cohort).values_list(*OUTCOME_COLUMNS)
    frame = pd.DataFrame.from_records(list(values), columns=list(OUTCOME_COLUMNS))
    frame["patient_id"] = frame["patient_id"].astype(str)
    return frame
