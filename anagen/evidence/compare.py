"""Comparison of two cohorts: Welch difference in means and Hedges' g, each with a CI."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from anagen.evidence.change import patient_groups
from anagen.evidence.errors import OutcomeTableError
from anagen.evidence.table import PATIENT, validate_outcomes
from anagen.evidence.windows import DEFAULT_WINDOWS, match_windows


@dataclass(frozen=True)
class CohortComparison:
    """Cohort A minus cohort B.

    ``difference`` is ``mean_a - mean_b`` with a Welch (unequal variances) t interval on
    ``welch_df`` Welch-Satterthwaite degrees of freedom; ``hedges_g`` is the difference over
    the pooled SD, bias-corrected by ``J = 1 - 3 / (4 (n_a + n_b) - 9)``, with the normal
    interval of Hedges & Olkin (1985): ``se(g)² = J² ((n_a + n_b) / (n_a n_b) +
    d² / (2 (n_a + n_b)))``.
    """

    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    sd_a: float
    sd_b: float
    difference: float
    ci_low: float
    ci_high: float
    welch_df: float
    p_value: float
    hedges_g: float
    g_ci_low: float
    g_ci_high: float


def _clean(x: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    arr: npt.NDArray[np.float64] = np.asarray(x, dtype=np.float64)
    arr = arr[~np.isnan(arr)]
    if arr.size < 2:
        raise OutcomeTableError(f"cohort {name} needs at least 2 values, has {arr.size}")
    return arr


def welch_difference(
    a: npt.ArrayLike, b: npt.ArrayLike, confidence: float = 0.95
) -> tuple[float, float, float, float, float]:
    """Difference in means with a Welch t interval.

    Parameters
    ----------
    a, b
        The two samples (NaN ignored; at least 2 values each).
    confidence
        Two-sided confidence level.

    Returns
    -------
    tuple of float
        ``(difference, ci_low, ci_high, df, p_value)``.
    """
    xa, xb = _clean(a, "A"), _clean(b, "B")
    va, vb = xa.var(ddof=1) / xa.size, xb.var(ddof=1) / xb.size
    diff = float(xa.mean() - xb.mean())
    se = math.sqrt(va + vb)
    if se == 0:
        return diff, diff, diff, math.inf, math.nan if diff == 0 else 0.0
    df = (va + vb) ** 2 / (va**2 / (xa.size - 1) + vb**2 / (xb.size - 1))
    half = float(stats.t.ppf(0.5 + confidence / 2.0, df)) * se
    p = 2.0 * float(stats.t.sf(abs(diff) / se, df))
    return diff, diff - half, diff + half, float(df), p


def hedges_g(
    a: npt.ArrayLike, b: npt.ArrayLike, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Hedges' g (bias-corrected standardized mean difference) with a normal CI.

    Parameters
    ----------
    a, b
        The two samples (NaN ignored; at least 2 values each).
    confidence
        Two-sided confidence level.

    Returns
    -------
    tuple of float
        ``(g, ci_low, ci_high)``; NaN when both samples have zero variance.
    """
    xa, xb = _clean(a, "A"), _clean(b, "B")
    na, nb = xa.size, xb.size
    pooled = math.sqrt(((na - 1) * xa.var(ddof=1) + (nb - 1) * xb.var(ddof=1)) / (na + nb - 2))
    if pooled == 0:
        return math.nan, math.nan, math.nan
    d = float(xa.mean() - xb.mean()) / pooled
    j = 1.0 - 3.0 / (4.0 * (na + nb) - 9.0)
    g = j * d
    se = j * math.sqrt((na + nb) / (na * nb) + d * d / (2.0 * (na + nb)))
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    return g, g - z * se, g + z * se


def compare_cohorts(
    a: npt.ArrayLike, b: npt.ArrayLike, confidence: float = 0.95
) -> CohortComparison:
    """Compare two cohorts' values (e.g. changes from baseline at one window).

    Parameters
    ----------
    a, b
        Cohort A and cohort B values (NaN ignored; at least 2 each).
    confidence
        Two-sided confidence level for both intervals.

    Returns
    -------
    CohortComparison
        A minus B.

    Raises
    ------
    OutcomeTableError
        If a cohort has fewer than 2 values.
    """
    xa, xb = _clean(a, "A"), _clean(b, "B")
    diff, low, high, df, p = welch_difference(xa, xb, confidence)
    g, glow, ghigh = hedges_g(xa, xb, confidence)
    return CohortComparison(
        n_a=int(xa.size),
        n_b=int(xb.size),
        mean_a=float(xa.mean()),
        mean_b=float(xb.mean()),
        sd_a=float(xa.std(ddof=1)),
        sd_b=float(xb.std(ddof=1)),
        difference=diff,
        ci_low=low,
        ci_high=high,
        welch_df=df,
        p_value=p,
        hedges_g=g,
        g_ci_low=glow,
        g_ci_high=ghigh,
    )


def compare_windows(
    table: pd.DataFrame,
    measure: str,
    *,
    group_by: str,
    group_a: str,
    group_b: str,
    windows: Sequence[float] = DEFAULT_WINDOWS,
    tolerance: float | None = None,
    confidence: float = 0.95,
) -> dict[float, CohortComparison | None]:
    """Compare the change from baseline of two cohorts at each window.

    Parameters
    ----------
    table
        Tidy outcome table.
    measure
        The measure column.
    group_by
        Column defining the cohorts (each patient's value at baseline, as in
        :func:`anagen.evidence.change.patient_groups`).
    group_a, group_b
        The two labels to compare (A minus B).
    windows, tolerance
        See :func:`anagen.evidence.windows.match_windows`.
    confidence
        Two-sided confidence level.

    Returns
    -------
    dict
        Window day → :class:`CohortComparison`, or ``None`` where a cohort has fewer than
        2 patients with a visit in the window.
    """
    clean = validate_outcomes(table, measure, extra_columns=[group_by])
    labels = patient_groups(clean, group_by)
    for label in (group_a, group_b):
        if not bool((labels == label).any()):
            raise OutcomeTableError(f"no patient in group {label!r} of column {group_by!r}")
    matched = match_windows(clean, measure, windows, tolerance)
    group = matched[PATIENT].map(labels)
    out: dict[float, CohortComparison | None] = {}
    for day in sorted(matched["window_day"].unique()):
        at = matched["window_day"] == day
        a = matched.loc[at & (group == group_a), "change"].dropna()
        b = matched.loc[at & (group == group_b), "change"].dropna()
        ok = len(a) >= 2 and len(b) >= 2
        out[float(day)] = compare_cohorts(a, b, confidence) if ok else None
    return out
