"""Coverage of the 95 % intervals on synthetic cohorts with a known true effect.

200 replications: the number of intervals covering the truth is Binomial(200, 0.95) when the
interval is exact, so 3 binomial standard errors (sqrt(0.95 * 0.05 / 200) = 1.54 points)
either side of 95 % gives the accepted band 90.4 %-99.6 %.
"""

from __future__ import annotations

import math

import numpy as np

from anagen.evidence import ResponderRule, compare_cohorts, synthetic_cohort, true_mean_change
from anagen.evidence.change import summarize_matched
from anagen.evidence.table import validate_outcomes
from anagen.evidence.windows import match_windows

M = "density_per_cm2"
REPS = 200
BAND = 3 * math.sqrt(0.95 * 0.05 / REPS)
ARMS = {"A": 20.0, "B": 8.0}


def test_paired_and_welch_intervals_cover_the_true_effect():
    rng = np.random.default_rng(20240611)
    covered_mean = covered_diff = 0
    estimates = []
    for _ in range(REPS):
        data = synthetic_cohort(
            40, arms=ARMS, windows=(180,), visit_jitter_days=20, missing_probability=0.15, seed=rng
        )
        matched = match_windows(validate_outcomes(data, M), M, windows=(180,))
        arm = matched["patient_id"].map(
            data.drop_duplicates("patient_id").set_index("patient_id")["protocol"]
        )
        a = matched[arm == "A"]
        (s,) = summarize_matched(a, ResponderRule())
        truth = true_mean_change(180, ARMS["A"])
        covered_mean += s.ci_low <= truth <= s.ci_high
        estimates.append(s.mean_change)
        c = compare_cohorts(a["change"], matched.loc[arm == "B", "change"])
        covered_diff += c.ci_low <= ARMS["A"] - ARMS["B"] <= c.ci_high
    assert abs(covered_mean / REPS - 0.95) <= BAND, covered_mean
    assert abs(covered_diff / REPS - 0.95) <= BAND, covered_diff
    # unbiased: the mean estimate is within 4 of its standard errors of the truth
    est = np.asarray(estimates)
    assert abs(est.mean() - ARMS["A"]) < 4 * est.std(ddof=1) / math.sqrt(REPS)
