"""Durability of response: Kaplan-Meier time to loss of response, and Cox regression.

Loss of response is defined on every measured visit after baseline (not only the windows).
A patient's response starts at the first visit where the change from baseline meets the
responder rule (:class:`anagen.evidence.change.ResponderRule`). The response is lost at the
first later visit where it no longer does (the change falls below the threshold): an
*event* at ``loss day - response day``. A responder who never falls below it is *censored*
at ``last visit day - response day``. Patients who never respond have no response to lose and
are counted apart (``n_never_responded``), not as events.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.utils import median_survival_times
from scipy import stats

from anagen.evidence.change import ResponderRule
from anagen.evidence.errors import OutcomeTableError
from anagen.evidence.table import DAY, PATIENT, baselines, validate_outcomes


@dataclass(frozen=True)
class KaplanMeierResult:
    """A Kaplan-Meier estimate with its median.

    ``median`` is ``inf`` when the curve never falls to 0.5 (not reached); a CI bound is
    ``inf`` when the corresponding confidence band does not reach 0.5. The band is lifelines'
    exponential Greenwood ("log-log") interval.
    """

    n: int
    n_events: int
    median: float
    median_ci_low: float
    median_ci_high: float
    curve: pd.DataFrame  # columns: time, survival, ci_low, ci_high


def kaplan_meier(
    durations: npt.ArrayLike, events: npt.ArrayLike, confidence: float = 0.95
) -> KaplanMeierResult:
    """Kaplan-Meier survival estimate and its median with a CI (lifelines).

    Parameters
    ----------
    durations
        Follow-up times (≥ 0).
    events
        1/True for an event, 0/False for censoring.
    confidence
        Two-sided level of the pointwise band and of the median's interval.

    Returns
    -------
    KaplanMeierResult
    """
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=bool)
    if t.size == 0:
        raise OutcomeTableError("Kaplan-Meier needs at least one duration")
    kmf = KaplanMeierFitter(alpha=1.0 - confidence).fit(t, e)
    band = kmf.confidence_interval_survival_function_
    ci = median_survival_times(band)
    low, high = (float(v) for v in np.asarray(ci, dtype=float).ravel()[:2])
    curve = pd.DataFrame(
        {
            "time": kmf.survival_function_.index.to_numpy(dtype=float),
            "survival": kmf.survival_function_.iloc[:, 0].to_numpy(dtype=float),
            "ci_low": band.iloc[:, 0].to_numpy(dtype=float),
            "ci_high": band.iloc[:, 1].to_numpy(dtype=float),
        }
    )
    return KaplanMeierResult(
        n=int(t.size),
        n_events=int(e.sum()),
        median=float(kmf.median_survival_time_),
        median_ci_low=low,
        median_ci_high=high,
        curve=curve,
    )


def loss_of_response_times(
    table: pd.DataFrame, measure: str, rule: ResponderRule | None = None
) -> pd.DataFrame:
    """Per patient with a baseline: when the response started and whether it was lost.

    Parameters
    ----------
    table
        Tidy outcome table.
    measure
        The measure column.
    rule
        Responder rule (default :class:`ResponderRule` ``()``).

    Returns
    -------
    pandas.DataFrame
        Columns ``patient_id``, ``responded`` (bool), ``response_day``, ``end_day``,
        ``duration`` (days from response to loss or censoring) and ``event`` (1 = lost);
        NaN day columns for patients who never responded.
    """
    rule = rule or ResponderRule()
    clean = validate_outcomes(table, measure)
    base = baselines(clean, measure)
    follow = clean[(clean[DAY] > 0) & clean[PATIENT].isin(base.index)]
    change = follow[measure] - follow[PATIENT].map(base)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = (100.0 * change / follow[PATIENT].map(base)).where(follow[PATIENT].map(base) != 0)
    follow = follow.assign(_ok=rule.responds(change.to_numpy(), pct.to_numpy()))
    by_patient = dict(tuple(follow.groupby(PATIENT, sort=False)))
    out = []
    for pid in base.index:
        visits = by_patient.get(pid)
        days = visits[DAY].to_numpy(float) if visits is not None else np.empty(0)
        ok = visits["_ok"].to_numpy(bool) if visits is not None else np.empty(0, bool)
        hits = np.flatnonzero(ok)
        if hits.size == 0:
            out.append((pid, False, math.nan, math.nan, math.nan, 0))
            continue
        start = int(hits[0])
        lost = np.flatnonzero(~ok[start + 1 :])
        if lost.size:
            end, event = days[start + 1 + int(lost[0])], 1
        else:
            end, event = days[-1], 0
        out.append((pid, True, days[start], end, end - days[start], event))
    return pd.DataFrame(
        out, columns=[PATIENT, "responded", "response_day", "end_day", "duration", "event"]
    )


@dataclass(frozen=True)
class DurabilityResult:
    """Time to loss of response among responders."""

    n_with_baseline: int
    n_responders: int
    n_never_responded: int
    km: KaplanMeierResult | None  # None when nobody responded


def durability(
    table: pd.DataFrame,
    measure: str,
    rule: ResponderRule | None = None,
    confidence: float = 0.95,
) -> DurabilityResult:
    """Kaplan-Meier time from first response to loss of response (see module docstring).

    Parameters
    ----------
    table
        Tidy outcome table.
    measure
        The measure column.
    rule
        Responder rule.
    confidence
        Level of the KM band and the median's interval.

    Returns
    -------
    DurabilityResult
    """
    spells = loss_of_response_times(table, measure, rule)
    resp = spells[spells["responded"]]
    km = kaplan_meier(resp["duration"], resp["event"], confidence) if len(resp) else None
    return DurabilityResult(
        n_with_baseline=len(spells),
        n_responders=len(resp),
        n_never_responded=len(spells) - len(resp),
        km=km,
    )


@dataclass(frozen=True)
class HazardRatio:
    """One Cox coefficient as a hazard ratio with its Wald interval."""

    name: str
    coef: float
    se: float
    hazard_ratio: float
    ci_low: float
    ci_high: float
    p_value: float


def cox_hazard_ratios(
    table: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[str],
    confidence: float = 0.95,
) -> dict[str, HazardRatio]:
    """Cox proportional-hazards regression (lifelines, Efron ties) as hazard ratios.

    Parameters
    ----------
    table
        One row per subject.
    duration, event
        Follow-up time column and event indicator column (1/True = event).
    covariates
        Numeric covariate columns (code categories as 0/1 beforehand).
    confidence
        Level of the hazard ratios' intervals.

    Returns
    -------
    dict of str to HazardRatio
        Keyed by covariate.
    """
    cols = [duration, event, *covariates]
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise OutcomeTableError(f"missing column(s): {', '.join(missing)}")
    data = table.loc[:, cols].dropna().astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph = CoxPHFitter(alpha=1.0 - confidence).fit(data, duration_col=duration, event_col=event)
    s = cph.summary
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    out = {}
    for name in covariates:
        coef, se = float(s.loc[name, "coef"]), float(s.loc[name, "se(coef)"])
        out[name] = HazardRatio(
            name=name,
            coef=coef,
            se=se,
            hazard_ratio=math.exp(coef),
            ci_low=math.exp(coef - z * se),
            ci_high=math.exp(coef + z * se),
            p_value=float(s.loc[name, "p"]),
        )
    return out
