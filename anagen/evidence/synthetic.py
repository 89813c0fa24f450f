"""Synthetic outcome cohorts with a known true effect (for tests, benchmarks and demos).

Each patient ``i`` in arm ``a`` has a baseline ``B_i ~ N(baseline_mean, baseline_sd)`` and a
personal response ``R_i ~ N(effect_a, response_sd)``; the measure at day ``t`` is
``B_i + R_i · ramp(t) + e_it`` with ``ramp(t) = min(1, t / ramp_days)`` and measurement
noise ``e_it ~ N(0, noise_sd)``. The true mean change from baseline at day ``t`` is therefore
``effect_a · ramp(t)`` (:func:`true_mean_change`), exactly, whatever the noise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from anagen.evidence.table import DAY, DEFAULT_MEASURE, PATIENT
from anagen.evidence.windows import DEFAULT_WINDOWS


def true_mean_change(day: float, effect: float, ramp_days: float = 90.0) -> float:
    """The true mean change from baseline at ``day`` for an arm with plateau ``effect``."""
    return effect * min(1.0, max(day, 0.0) / ramp_days)


def synthetic_cohort(
    n_patients: int,
    *,
    arms: Mapping[str, float] | None = None,
    windows: Sequence[float] = DEFAULT_WINDOWS,
    baseline_mean: float = 150.0,
    baseline_sd: float = 30.0,
    response_sd: float = 12.0,
    noise_sd: float = 6.0,
    ramp_days: float = 90.0,
    visit_jitter_days: float = 0.0,
    missing_probability: float = 0.0,
    measure: str = DEFAULT_MEASURE,
    seed: int | np.random.Generator = 0,
) -> pd.DataFrame:
    """A tidy outcome table of a simulated cohort.

    Parameters
    ----------
    n_patients
        Patients, spread over the arms in turn.
    arms
        Protocol name → plateau true mean change (measure units); default
        ``{"standard": 20.0}``.
    windows
        Follow-up visit days (each visit at its window day ± uniform jitter).
    baseline_mean, baseline_sd, response_sd, noise_sd, ramp_days
        See the module docstring.
    visit_jitter_days
        Half-width of the uniform jitter of follow-up visit days (0 = on the day), at most a
        quarter of the window day so that neighbouring visits never swap or coincide.
    missing_probability
        Chance that a follow-up visit is missed (its row is absent).
    measure
        Name of the measure column.
    seed
        Seed or generator.

    Returns
    -------
    pandas.DataFrame
        ``patient_id``, ``visit_day``, the measure, ``protocol``, ``age``, ``sex``,
        ``true_mean_change`` (the arm's expected change at that visit).
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    arms = dict(arms) if arms is not None else {"standard": 20.0}
    names = list(arms)
    rows = []
    for i in range(n_patients):
        arm = names[i % len(names)]
        base = rng.normal(baseline_mean, baseline_sd)
        response = rng.normal(arms[arm], response_sd)
        age = float(rng.integers(22, 66))
        sex = "F" if rng.random() < 0.3 else "M"
        pid = f"P{i + 1:05d}"
        days = [0.0] + [float(w) for w in windows]
        for k, w in enumerate(days):
            if k and rng.random() < missing_probability:
                continue
            half = min(visit_jitter_days, w / 4.0)
            jitter = float(rng.uniform(-half, half)) if k else 0.0
            day = round(w + jitter, 1)
            ramp = min(1.0, day / ramp_days)
            value = base + response * ramp + rng.normal(0.0, noise_sd)
            rows.append(
                (pid, day, value, arm, age, sex, true_mean_change(day, arms[arm], ramp_days))
            )
    return pd.DataFrame(
        rows, columns=[PATIENT, DAY, measure, "protocol", "age", "sex", "true_mean_change"]
    )
