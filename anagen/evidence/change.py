"""Change from baseline per window: paired t CI, median and IQR, percent change, responders."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from anagen.evidence.errors import OutcomeTableError
from anagen.evidence.proportions import wilson_ci
from anagen.evidence.table import PATIENT, validate_outcomes
from anagen.evidence.windows import DEFAULT_WINDOWS, match_windows

#: the responder threshold when none is given: a gain of at least 10 hairs per cm²
DEFAULT_RESPONDER_DELTA = 10.0


@dataclass(frozen=True)
class ResponderRule:
    """Who counts as a responder at a visit.

    A patient responds when the change from baseline is at least ``delta`` (measure units,
    e.g. hairs per cm²) **or** the percent change is at least ``percent``; a rule left
    ``None`` is not used. At least one must be set.
    """

    delta: float | None = DEFAULT_RESPONDER_DELTA
    percent: float | None = None

    def __post_init__(self) -> None:
        if self.delta is None and self.percent is None:
            raise OutcomeTableError("a responder rule needs a delta or a percent (or both)")

    def responds(
        self, change: npt.ArrayLike, percent_change: npt.ArrayLike
    ) -> npt.NDArray[np.bool_]:
        """Element-wise: does a change (and its percent change) meet the rule? NaN never does.

        Parameters
        ----------
        change
            Changes from baseline.
        percent_change
            The same changes in percent of baseline (NaN when the baseline is 0).

        Returns
        -------
        numpy.ndarray of bool
        """
        ch = np.asarray(change, dtype=float)
        pct = np.asarray(percent_change, dtype=float)
        ok = np.zeros(ch.shape, dtype=bool)
        with np.errstate(invalid="ignore"):
            if self.delta is not None:
                ok |= ch >= self.delta
            if self.percent is not None:
                ok |= pct >= self.percent
        return ok


@dataclass(frozen=True)
class MeanCI:
    """A mean with its two-sided t confidence interval."""

    n: int
    mean: float
    sd: float
    ci_low: float
    ci_high: float


def paired_t_ci(changes: npt.ArrayLike, confidence: float = 0.95) -> MeanCI:
    """Mean of paired differences with the t interval ``mean ± t(n-1) · sd / √n``.

    Parameters
    ----------
    changes
        Within-patient differences (follow-up minus baseline); NaN values are ignored.
    confidence
        Two-sided confidence level.

    Returns
    -------
    MeanCI
        NaN mean for no value; NaN sd and interval for a single value.
    """
    x = np.asarray(changes, dtype=float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return MeanCI(0, math.nan, math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if n == 1:
        return MeanCI(1, mean, math.nan, math.nan, math.nan)
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * sd / math.sqrt(n)
    return MeanCI(n, mean, sd, mean - half, mean + half)


@dataclass(frozen=True)
class WindowSummary:
    """Change from baseline at one window, over the patients with a baseline."""

    window_day: float
    tolerance_days: float
    n: int
    n_missing: int
    mean_baseline: float
    mean_change: float
    sd_change: float
    ci_low: float
    ci_high: float
    median_change: float
    q1_change: float
    q3_change: float
    mean_percent_change: float
    median_percent_change: float
    n_responders: int
    responder_rate: float
    responder_ci_low: float
    responder_ci_high: float

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict, NaN as ``None`` (JSON ``null``), whole days as int."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, float) and math.isnan(value):
                out[key] = None
            elif key in ("window_day", "tolerance_days") and float(value).is_integer():
                out[key] = int(value)
            else:
                out[key] = value
        return out


def _quantile(x: npt.NDArray[np.float64], q: float) -> float:
    return float(np.quantile(x, q)) if x.size else math.nan


def summarize_matched(
    matched: pd.DataFrame, rule: ResponderRule, confidence: float = 0.95
) -> list[WindowSummary]:
    """Summarise the output of :func:`anagen.evidence.windows.match_windows` per window.

    Parameters
    ----------
    matched
        One row per patient with a baseline and window (missing visits included).
    rule
        The responder rule.
    confidence
        Two-sided confidence level of the mean-change and responder intervals.

    Returns
    -------
    list of WindowSummary
        One per window day, in increasing order.
    """
    out = []
    for _, rows in matched.groupby("window_day", sort=True):
        tol = rows["tolerance_days"].iloc[0]
        present = rows[rows["change"].notna()]
        change = present["change"].to_numpy(dtype=float)
        pct = present["percent_change"].to_numpy(dtype=float)
        mean = paired_t_ci(change, confidence)
        n = mean.n
        k = int(rule.responds(change, pct).sum())
        rlow, rhigh = wilson_ci(k, n, confidence)
        pct_known = pct[~np.isnan(pct)]
        out.append(
            WindowSummary(
                window_day=float(rows["window_day"].iloc[0]),
                tolerance_days=float(tol),
                n=n,
                n_missing=len(rows) - n,
                mean_baseline=float(present["baseline"].mean()) if n else math.nan,
                mean_change=mean.mean,
                sd_change=mean.sd,
                ci_low=mean.ci_low,
                ci_high=mean.ci_high,
                median_change=_quantile(change, 0.5),
                q1_change=_quantile(change, 0.25),
                q3_change=_quantile(change, 0.75),
                mean_percent_change=float(pct_known.mean()) if pct_known.size else math.nan,
                median_percent_change=_quantile(pct_known, 0.5),
                n_responders=k,
                responder_rate=k / n if n else math.nan,
                responder_ci_low=rlow,
                responder_ci_high=rhigh,
            )
        )
    return out


def summarize_change(
    table: pd.DataFrame,
    measure: str,
    *,
    windows: Sequence[float] = DEFAULT_WINDOWS,
    tolerance: float | None = None,
    rule: ResponderRule | None = None,
    confidence: float = 0.95,
) -> list[WindowSummary]:
    """Change from baseline of ``measure`` at each window (validates the table first).

    Parameters
    ----------
    table
        Tidy outcome table (``patient_id``, ``visit_day``, the measure).
    measure
        The measure column.
    windows, tolerance
        See :func:`anagen.evidence.windows.match_windows`.
    rule
        Responder rule; default :class:`ResponderRule` ``()`` (change ≥ +10).
    confidence
        Two-sided confidence level.

    Returns
    -------
    list of WindowSummary
    """
    clean = validate_outcomes(table, measure)
    matched = match_windows(clean, measure, windows, tolerance)
    return summarize_matched(matched, rule or ResponderRule(), confidence)


@dataclass(frozen=True)
class GroupSummary:
    """The window summaries of one group of patients."""

    group: str
    n_patients: int
    n_with_baseline: int
    timepoints: list[WindowSummary]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the command line's ``groups`` items)."""
        return {
            "group": self.group,
            "n_patients": self.n_patients,
            "n_with_baseline": self.n_with_baseline,
            "timepoints": [t.to_dict() for t in self.timepoints],
        }


def _group_label(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def summarize_groups(
    table: pd.DataFrame,
    measure: str,
    *,
    group_by: str | None = None,
    windows: Sequence[float] = DEFAULT_WINDOWS,
    tolerance: float | None = None,
    rule: ResponderRule | None = None,
    confidence: float = 0.95,
) -> list[GroupSummary]:
    """Window summaries for all patients (group ``"all"``) or per value of a column.

    A patient's group is the value of ``group_by`` at the patient's baseline visit (else the
    first non-empty value); patients without any value form the group ``"(missing)"``.

    Parameters
    ----------
    table
        Tidy outcome table.
    measure
        The measure column.
    group_by
        Column naming the cohort (e.g. ``protocol``), or ``None`` for one group ``"all"``.
    windows, tolerance, rule, confidence
        As in :func:`summarize_change`.

    Returns
    -------
    list of GroupSummary
        Sorted by group label.
    """
    rule = rule or ResponderRule()
    clean = validate_outcomes(table, measure, extra_columns=[group_by] if group_by else ())
    all_patients = int(clean[PATIENT].nunique())
    matched = match_windows(clean, measure, windows, tolerance)
    if group_by is None:
        return [
            GroupSummary(
                "all",
                all_patients,
                int(matched[PATIENT].nunique()),
                summarize_matched(matched, rule, confidence),
            )
        ]
    labels = patient_groups(clean, group_by)
    matched = matched.assign(_group=matched[PATIENT].map(labels))
    groups = []
    for label, rows in matched.groupby("_group", sort=True):
        members = labels[labels == label].index
        groups.append(
            GroupSummary(
                str(label),
                len(members),
                int(rows[PATIENT].nunique()),
                summarize_matched(rows.drop(columns="_group"), rule, confidence),
            )
        )
    return groups


def patient_groups(table: pd.DataFrame, column: str) -> pd.Series:
    """Each patient's group label from ``column`` (baseline value, else first non-empty).

    Returns
    -------
    pandas.Series
        Text labels indexed by ``patient_id``; ``"(missing)"`` where no row has a value.
    """
    ordered = table.assign(_not_base=table["visit_day"] != 0).sort_values(
        [PATIENT, "_not_base", "visit_day"], kind="stable"
    )
    first = ordered.groupby(PATIENT, sort=True)[column].first()
    return first.map(lambda v: "(missing)" if pd.isna(v) else _group_label(v))
