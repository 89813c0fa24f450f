"""A small closed loop: follicle model → phantoms → trichometry engine → paired t interval.

The full benchmark (``python -m bench.evidence``) runs 212 replications for a coverage with a
standard error of 1.5 points; this test runs 8 small cohorts (8 patients, baseline and day 180)
and checks that the loop holds together, not the coverage itself.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from anagen.evidence.closed_loop import (
    TRUTH_MEASURE,
    ClosedLoopConfig,
    replications_for_se,
    run_closed_loop,
)

CONFIG = ClosedLoopConfig(
    n_patients=8,
    windows=(180,),
    replications=8,
    truth_patients=600,
    untreated_patients=0,
    seed=11,
)


@pytest.fixture(scope="module")
def result():
    return run_closed_loop(CONFIG)


def test_the_benchmark_size_gives_a_coverage_standard_error_of_1_5_points():
    n = replications_for_se(0.015, 0.95)
    assert n == 212
    assert math.sqrt(0.95 * 0.05 / n) <= 0.015 < math.sqrt(0.95 * 0.05 / (n - 1))


def test_every_replication_runs_end_to_end(result):
    assert len(result.replications) == CONFIG.replications
    (truth,) = result.truth
    assert truth.window_day == 180 and truth.n == CONFIG.truth_patients
    # the model's hypothesis gives treated patients a gain of the order of +10 /cm² at 6 months
    assert 3.0 < truth.mean < 20.0 and truth.se < 1.0
    for rep in result.replications:
        assert len(rep.table) == CONFIG.n_patients * 2  # every patient imaged at both visits
        assert rep.table[["density_per_cm2", TRUTH_MEASURE]].notna().all().all()
        (w,) = rep.windows
        assert w.n == CONFIG.n_patients
        assert w.ci_low < w.mean_change < w.ci_high
        assert w.truth_ci_low < w.truth_mean_change < w.truth_ci_high
    assert result.seconds_per_image > 0


def test_the_engine_measured_change_follows_the_phantoms_exact_change(result):
    (s,) = result.summary()
    assert s.engine_truth_correlation > 0.7
    # the engine's error on one patient's change: no systematic part beyond 4 hairs/cm²
    # (64 changes with an SD of about 12/cm²: the standard error of the mean is about 1.5;
    # this seed gives -2.7, the full benchmark -0.3 over 3,392 changes)
    assert abs(s.engine_error_mean) < 4.0, s
    assert s.engine_error_sd < 20.0, s


def test_the_estimate_is_unbiased_within_its_monte_carlo_error(result):
    (s,) = result.summary()
    # bias = mean of 8 estimates minus the truth; tolerance: 4 standard errors of that mean
    # plus 4 standard errors of the truth-only population's mean
    assert abs(s.bias) < 4 * s.bias_se + 4 * s.true_change_se, s
    assert abs(s.perfect_counter_bias) < 4 * s.bias_se + 4 * s.true_change_se, s


def test_the_intervals_cover_the_true_effect_most_of_the_time(result):
    (s,) = result.summary()
    # 8 intervals at 95 %: 4 or fewer covering has probability < 1e-4
    assert s.coverage >= 0.5, s
    assert s.perfect_counter_coverage >= 0.5, s
    est = result.estimates(180)
    assert np.isclose(s.coverage, np.mean([e.ci_low <= s.true_change <= e.ci_high for e in est]))
