"""Adverse-event rates with exact (Clopper-Pearson) intervals, by type and by type and grade.

Two denominators, both reported:

* per patient: patients with at least one such event / patients exposed;
* per session: sessions with at least one such event / sessions performed.

Events are rows of ``patient_id``, ``type`` and ``grade`` (e.g. CTCAE 1-5), with
``session_id`` when the event is attributed to a treatment session; an event without a
session counts for the per-patient rate only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from anagen.evidence.errors import OutcomeTableError
from anagen.evidence.proportions import clopper_pearson_ci
from anagen.evidence.table import PATIENT

#: the type label of the row counting events of any type
ANY = "any"


@dataclass(frozen=True)
class AdverseEventRate:
    """The rate of one event type (``grade`` None = all grades) per patient and per session."""

    type: str
    grade: str | None
    n_events: int
    patients_with_event: int
    n_patients: int
    patient_rate: float
    patient_ci_low: float
    patient_ci_high: float
    sessions_with_event: int
    n_sessions: int
    session_rate: float
    session_ci_low: float
    session_ci_high: float


def _rate(
    rows: pd.DataFrame, type_: str, grade: str | None, n_patients: int, n_sessions: int, conf: float
) -> AdverseEventRate:
    k_p = int(rows[PATIENT].nunique())
    k_s = int(rows["session_id"].dropna().nunique()) if "session_id" in rows else 0
    p_low, p_high = clopper_pearson_ci(k_p, n_patients, conf)
    s_low, s_high = clopper_pearson_ci(k_s, n_sessions, conf) if n_sessions else (math.nan,) * 2
    return AdverseEventRate(
        type=type_,
        grade=grade,
        n_events=len(rows),
        patients_with_event=k_p,
        n_patients=n_patients,
        patient_rate=k_p / n_patients if n_patients else math.nan,
        patient_ci_low=p_low,
        patient_ci_high=p_high,
        sessions_with_event=k_s,
        n_sessions=n_sessions,
        session_rate=k_s / n_sessions if n_sessions else math.nan,
        session_ci_low=s_low,
        session_ci_high=s_high,
    )


def adverse_event_rates(
    events: pd.DataFrame, *, n_patients: int, n_sessions: int = 0, confidence: float = 0.95
) -> list[AdverseEventRate]:
    """Rates of adverse events by type and by type and grade, with exact CIs.

    Parameters
    ----------
    events
        One row per event: ``patient_id``, ``type``, ``grade``, optional ``session_id``.
    n_patients
        Patients exposed (the per-patient denominator; ≥ the patients with events).
    n_sessions
        Sessions performed (the per-session denominator; 0 = not reported, NaN rates).
    confidence
        Two-sided confidence level.

    Returns
    -------
    list of AdverseEventRate
        First ``any`` type (all grades), then per type: all grades, then each grade.

    Raises
    ------
    OutcomeTableError
        On a missing column or a denominator smaller than its count.
    """
    missing = [c for c in (PATIENT, "type", "grade") if c not in events.columns]
    if missing:
        raise OutcomeTableError(f"missing column(s): {', '.join(missing)}")
    ev = events.assign(
        type=events["type"].astype(str),
        grade=events["grade"].map(lambda g: None if pd.isna(g) else str(g)),
    )
    if ev[PATIENT].nunique() > n_patients:
        raise OutcomeTableError("more patients with events than patients exposed")
    if n_sessions and "session_id" in ev and ev["session_id"].dropna().nunique() > n_sessions:
        raise OutcomeTableError("more sessions with events than sessions performed")
    out = [_rate(ev, ANY, None, n_patients, n_sessions, confidence)]
    for type_, rows in ev.groupby("type", sort=True):
        out.append(_rate(rows, str(type_), None, n_patients, n_sessions, confidence))
        for grade, graded in rows.dropna(subset=["grade"]).groupby("grade", sort=True):
            out.append(_rate(graded, str(type_), str(grade), n_patients, n_sessions, confidence))
    return out
