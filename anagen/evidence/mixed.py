"""Linear mixed model of a measure over time (statsmodels MixedLM).

``measure ~ 1 + time + covariates`` with a random intercept per patient and, optionally, a
random slope on time (correlated with the intercept), fitted by REML by default. Covariates
are the columns of :data:`KNOWN_COVARIATES` present in the table unless named; numeric
columns enter as they are (booleans as 0/1), text columns as treatment-coded indicators
against their first level in sorted order (``sex[T.M]``). Rows missing any used column are
left out (complete cases); ``n_obs`` says how many were used.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.regression.mixed_linear_model import MixedLM

from anagen.evidence.errors import OutcomeTableError
from anagen.evidence.table import DAY, PATIENT

#: covariates used when present and none are named
KNOWN_COVARIATES = ("age", "sex", "stage", "protocol", "cell_dose", "prp")


@dataclass(frozen=True)
class FixedEffect:
    """One fixed-effect coefficient with its Wald (normal) interval."""

    name: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float


@dataclass(frozen=True)
class MixedModelResult:
    """A fitted mixed model: fixed effects and variance components (as SDs)."""

    measure: str
    time: str
    covariates: tuple[str, ...]
    fixed: dict[str, FixedEffect]
    sd_intercept: float
    sd_slope: float
    corr_intercept_slope: float
    sd_residual: float
    n_obs: int
    n_groups: int
    reml: bool
    converged: bool
    log_likelihood: float


def _design(data: pd.DataFrame, time: str, covariates: Sequence[str]) -> pd.DataFrame:
    cols: dict[str, Any] = {"Intercept": np.ones(len(data)), time: data[time].to_numpy(float)}
    for cov in covariates:
        col = data[cov]
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            cols[cov] = col.to_numpy(dtype=float)
            continue
        levels = sorted(col.astype(str).unique())
        for level in levels[1:]:
            cols[f"{cov}[T.{level}]"] = (col.astype(str) == level).to_numpy(dtype=float)
    return pd.DataFrame(cols, index=data.index)


def fit_mixed_model(
    table: pd.DataFrame,
    measure: str,
    *,
    time: str = DAY,
    subject: str = PATIENT,
    covariates: Sequence[str] | None = None,
    random_slope: bool = False,
    reml: bool = True,
    confidence: float = 0.95,
) -> MixedModelResult:
    """Fit ``measure ~ time + covariates`` with random effects per ``subject``.

    Parameters
    ----------
    table
        Long table: one row per subject and visit.
    measure
        Outcome column.
    time
        Time column (e.g. ``visit_day``; rescale it beforehand for a slope per month).
    subject
        Grouping column for the random effects.
    covariates
        Covariate columns; ``None`` for those of :data:`KNOWN_COVARIATES` present. Columns
        with a single value among the complete cases are dropped (nothing to estimate).
    random_slope
        Add a random slope on ``time`` (correlated with the random intercept).
    reml
        Restricted maximum likelihood (default) or maximum likelihood.
    confidence
        Level of the fixed effects' Wald intervals.

    Returns
    -------
    MixedModelResult
        ``sd_slope`` and ``corr_intercept_slope`` are NaN without a random slope.

    Raises
    ------
    OutcomeTableError
        If a column is missing or fewer than 2 subjects remain.
    """
    if covariates is None:
        covariates = [c for c in KNOWN_COVARIATES if c in table.columns]
    needed = [subject, time, measure, *covariates]
    missing = [c for c in dict.fromkeys(needed) if c not in table.columns]
    if missing:
        raise OutcomeTableError(f"missing column(s): {', '.join(missing)}")
    data = table.loc[:, list(dict.fromkeys(needed))].dropna()
    for col in (time, measure):
        data[col] = pd.to_numeric(data[col], errors="coerce")
    data = data.dropna()
    used = tuple(c for c in covariates if data[c].nunique() > 1)
    groups = data[subject].astype(str).to_numpy()
    if len(set(groups)) < 2:
        raise OutcomeTableError("a mixed model needs at least 2 patients with complete rows")
    exog = _design(data, time, used)
    exog_re = exog[["Intercept", time]] if random_slope else exog[["Intercept"]]
    model = MixedLM(data[measure].to_numpy(float), exog, groups=groups, exog_re=exog_re)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(reml=reml)
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    fixed = {}
    for name in exog.columns:
        est, se = float(fit.fe_params[name]), float(fit.bse_fe[name])
        p = 2.0 * float(stats.norm.sf(abs(est / se))) if se > 0 else math.nan
        fixed[name] = FixedEffect(name, est, se, est - z * se, est + z * se, p)
    cov_re = np.asarray(fit.cov_re, dtype=float)
    sd_int = math.sqrt(max(cov_re[0, 0], 0.0))
    sd_slope = corr = math.nan
    if random_slope:
        sd_slope = math.sqrt(max(cov_re[1, 1], 0.0))
        corr = cov_re[0, 1] / (sd_int * sd_slope) if sd_int > 0 and sd_slope > 0 else math.nan
    return MixedModelResult(
        measure=measure,
        time=time,
        covariates=used,
        fixed=fixed,
        sd_intercept=sd_int,
        sd_slope=sd_slope,
        corr_intercept_slope=float(corr),
        sd_residual=math.sqrt(float(fit.scale)),
        n_obs=len(data),
        n_groups=len(set(groups)),
        reml=reml,
        converged=bool(fit.converged),
        log_likelihood=float(fit.llf),
    )
