"""Reads of the registry: the outcome table as a tidy DataFrame for ``anagen.evidence``."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Max, QuerySet

from anagen.clinic.accounts.access import sites_for
from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import Perm, allows
from anagen.clinic.common import clock
from anagen.clinic.patients.models import Patient
from anagen.clinic.treatment.models import AdverseEvent, ScheduledVisit, TreatmentSession

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
    "blinded_review_score",
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
#: What the change computation of a matched measure reads besides (``analysis.frame_columns``):
#: the target site, and the hair-to-hair change from its baseline image.
MATCHED_COLUMNS = ("target_site_id", "matched_change_per_cm2", "matched_terminal_change_per_cm2")


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


def may_select_by_real_dates(user: User) -> bool:
    """Whether ``user`` may narrow a cohort by real (unshifted) dates: only staff who read the
    charts anyway. A researcher who could would undo the export's date shift (a cohort of one
    baseline day names the patient hash whose real baseline it is)."""
    return allows(user, Perm.PATIENT_VIEW)


def _as_seen_by(user: User | None, cohort: Cohort) -> Cohort:
    """The cohort ``user`` may ask for: without real dates for who may not read charts."""
    if user is not None and not may_select_by_real_dates(user):
        return replace(cohort, baseline_from=None, baseline_to=None)
    return cohort


def _baseline_scoped(
    *, user: User | None, cohort: Cohort
) -> tuple[QuerySet[OutcomeRecord], QuerySet[OutcomeRecord]]:
    """The rows of ``user``'s sites (None: every site) in the cohort's site and zone, and their
    baseline rows that meet the cohort's patient-level criteria."""
    cohort = _as_seen_by(user, cohort)
    rows = (
        OutcomeRecord.objects.all()
        if user is None
        else OutcomeRecord.objects.filter(site__in=sites_for(user=user))
    )
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
    return rows, patients


def outcome_records(*, user: User | None, cohort: Cohort | None = None) -> QuerySet[OutcomeRecord]:
    """The outcome rows of the sites ``user`` works at (None: every site, for jobs and the
    command line), narrowed to ``cohort``.

    Patient-level criteria (age, sex, stage, protocol, baseline date) are those at baseline;
    cell dose and PRP are the patient's totals over all visits, so a patient is in or out of a
    cohort as a whole, never with only some of their visits.
    """
    cohort = cohort or Cohort()
    rows, patients = _baseline_scoped(user=user, cohort=cohort)
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


def outcome_frame(
    *, user: User, cohort: Cohort | None = None, columns: Sequence[str] = OUTCOME_COLUMNS
) -> pd.DataFrame:
    """The cohort's outcome table: one row per visit × target site.

    Parameters
    ----------
    user, cohort
        Whose sites, and who of their patients (see ``outcome_records``).
    columns
        Which of ``OUTCOME_COLUMNS`` to read (default all; ``patient_id`` always comes first).
        A page reads only what its statistics use: for the whole registry, fetching and
        converting the 33 columns of every row is most of the time a page takes.
    """
    unknown = set(columns) - set(OUTCOME_COLUMNS) - set(MATCHED_COLUMNS)
    if unknown:
        raise ValueError(f"Not outcome columns: {sorted(unknown)}")
    wanted = _with_patient(columns)
    network = network_frame(cohort=_as_seen_by(user, cohort or Cohort()), columns=wanted)
    mine = network[network["site_id"].isin(list(sites_for(user=user).values_list("pk", flat=True)))]
    return mine[wanted].reset_index(drop=True)


def _with_patient(columns: Sequence[str]) -> list[str]:
    return ["patient_id", *(c for c in dict.fromkeys(columns) if c != "patient_id")]


def network_frame(*, cohort: Cohort, columns: Sequence[str]) -> pd.DataFrame:
    """The cohort's rows at every site with ``site_id`` and ``columns``: kept in the cache per
    outcome-table version (``registry.tasks`` computes the whole registry's after each
    rebuild), so a page reads it instead of the table. Callers narrow it to a user's sites."""
    read = list(dict.fromkeys(["site_id", *_with_patient(columns)]))
    key = cohort_cache_key(cohort=cohort, columns=read)
    cached = cache.get(key)
    if isinstance(cached, pd.DataFrame):
        return cached
    frame = _read_frame(outcome_records(user=None, cohort=cohort).order_by(), read)
    cache.set(key, frame, FRAME_CACHE_SECONDS)
    return frame


#: Field types the database returns as plain numbers (NULL as None), read without Django's
#: per-row converters.
_NUMBER_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "ForeignKey",
        "IntegerField",
        "BigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "FloatField",
    }
)


def _read_frame(rows: QuerySet[OutcomeRecord], columns: Sequence[str]) -> pd.DataFrame:
    """``columns`` of ``rows`` as a DataFrame, in no particular order.

    When every column is a number (the statistics' usual columns), the rows are read with one
    cursor and converted as one float array: for the whole registry (130,000 rows) that is a
    third of the time of Django's row-by-row values and pandas' record conversion. Whole-number
    columns without gaps come back as integers (``patient_id`` and ``site_id`` always).
    """
    fields = [OutcomeRecord._meta.get_field(c) for c in columns]
    if not all(f.get_internal_type() in _NUMBER_TYPES for f in fields):
        return pd.DataFrame.from_records(list(rows.values_list(*columns)), columns=list(columns))
    sql, params = rows.values_list(*columns).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        values = np.array(cursor.fetchall(), dtype=float).reshape(-1, len(columns))
    frame = pd.DataFrame(values, columns=list(columns))
    for column, field in zip(columns, fields, strict=True):
        whole = field.get_internal_type() != "FloatField"
        if whole and not frame[column].isna().any():
            frame[column] = frame[column].astype("int64")
    return frame


#: How long a cohort's frame is kept; any change to the outcome table makes a new key anyway.
FRAME_CACHE_SECONDS = 3600


def outcome_table_version() -> str:
    """Changes whenever the outcome table does: a patient's rows are rebuilt by deleting and
    re-inserting them (``services.outcomes_refresh``), so the highest id grows with every
    rebuild and the count changes when rows go. Two index-only aggregates."""
    stats = OutcomeRecord.objects.aggregate(top=Max("id"), n=Count("id"))
    return f"{stats['top'] or 0}.{stats['n']}"


def cohort_cache_key(*, cohort: Cohort, columns: Sequence[str]) -> str:
    """The cache key of one cohort's network-wide frame: the outcome table's version, the
    cohort, the columns. Hashed: the key holds no criteria in clear."""
    text = repr((outcome_table_version(), cohort, tuple(columns)))
    return "registry-frame:" + hashlib.sha256(text.encode()).hexdigest()


# --- registry pages (issue 11: cohort statistics, completeness, safety, what to expect) ------


def _cohort_patients(*, user: User, cohort: Cohort | None) -> QuerySet[OutcomeRecord, Any]:
    """The cohort's patient ids as a subquery (never a long list of parameters).

    Read from the baseline rows only: every cohort member has one (``outcome_records`` keeps
    only patients with a baseline and drops patients whole), and there is one per patient and
    target site instead of one per visit.
    """
    cohort = cohort or Cohort()
    if cohort.prp is None and cohort.cells_min is None and cohort.cells_max is None:
        # No criterion over all visits: the members are those baseline rows themselves
        # (SQLite otherwise runs the nested subqueries of ``outcome_records`` for each use).
        _, patients = _baseline_scoped(user=user, cohort=cohort)
    else:
        patients = outcome_records(user=user, cohort=cohort).filter(visit_day=0)
    return patients.values("patient_id").distinct()


def scheduled_follow_ups(*, user: User, cohort: Cohort | None = None) -> pd.DataFrame:
    """The cohort's scheduled follow-up visits with their protocol window day.

    Columns: ``patient_id``, ``window_day`` (from the visit's "Day N" label), ``due_on``,
    ``window_end``, ``completed``.
    """
    rows = ScheduledVisit.objects.filter(
        kind=ScheduledVisit.Kind.FOLLOW_UP,
        patient__site__in=sites_for(user=user),
        patient_id__in=_cohort_patients(user=user, cohort=cohort),
    ).values_list("patient_id", "label", "due_on", "window_end", "completed")
    records = []
    for patient_id, label, due_on, window_end, completed in rows:
        word, _, number = label.partition(" ")
        if word != "Day" or not number.isdecimal():
            continue
        records.append((patient_id, int(number), due_on, window_end, completed))
    return pd.DataFrame.from_records(
        records, columns=["patient_id", "window_day", "due_on", "window_end", "completed"]
    )


def adverse_events_frame(*, user: User, cohort: Cohort | None = None) -> tuple[pd.DataFrame, int]:
    """The cohort's adverse events (``patient_id``, ``type``, ``grade``, ``session_id``) and the
    number of treatment sessions its patients had (the per-session denominator)."""
    members = _cohort_patients(user=user, cohort=cohort)
    sites = sites_for(user=user)
    events = AdverseEvent.objects.filter(
        patient__site__in=sites, patient_id__in=members
    ).values_list("patient_id", "type", "grade", "session_id")
    frame = pd.DataFrame.from_records(
        list(events), columns=["patient_id", "type", "grade", "session_id"]
    )
    sessions = TreatmentSession.objects.filter(
        patient__site__in=sites, patient_id__in=members
    ).count()
    return frame, sessions


@dataclass(frozen=True)
class Likeness:
    """What makes a registry patient "like" a prospective patient."""

    sex: str
    age: int
    stage: str
    age_span: int = 10

    @property
    def cohort(self) -> Cohort:
        return Cohort(
            sex=self.sex,
            age_min=self.age - self.age_span,
            age_max=self.age + self.age_span,
            stage=self.stage or None,
        )


def likeness_of(patient: Patient) -> Likeness:
    """The patient's sex, age today and latest recorded stage (as the outcome table words it)."""
    today = clock.localdate()
    born = patient.date_of_birth
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    assessment = patient.assessments.order_by("-assessed_at").first()
    stage = ""
    if assessment is not None and assessment.norwood:
        stage = f"Norwood {assessment.norwood}"
    elif assessment is not None and assessment.ludwig:
        stage = f"Ludwig {assessment.ludwig}"
    return Likeness(sex=patient.sex, age=age, stage=stage)


def similar_patients_frame(
    *, user: User, patient: Patient, columns: Sequence[str] = OUTCOME_COLUMNS
) -> tuple[Likeness, pd.DataFrame]:
    """The outcome rows of registry patients like ``patient`` (never the patient's own)."""
    likeness = likeness_of(patient)
    frame = outcome_frame(user=user, cohort=likeness.cohort, columns=columns)
    if not frame.empty:
        frame = frame[frame["patient_id"] != patient.pk]
    return likeness, frame


#: Columns the de-identified export reads (ids and dates are hashed and shifted on the way out).
EXPORT_SOURCE_COLUMNS = ("visit_id", "image_id", *OUTCOME_COLUMNS)


def export_frame(*, user: User | None, cohort: Cohort | None = None) -> pd.DataFrame:
    """The outcome rows for the de-identified export; ``user`` None: every site (the command)."""
    rows = (
        OutcomeRecord.objects.all() if user is None else outcome_records(user=user, cohort=cohort)
    )
    values = rows.order_by("patient_id", "taken_on", "image_id").values_list(*EXPORT_SOURCE_COLUMNS)
    return pd.DataFrame.from_records(list(values), columns=list(EXPORT_SOURCE_COLUMNS))
