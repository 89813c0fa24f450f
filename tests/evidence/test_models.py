"""Cohort comparison, durability, adverse events and the mixed model on registry-shaped data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from anagen.evidence import (
    OutcomeTableError,
    ResponderRule,
    adverse_event_rates,
    clopper_pearson_ci,
    compare_cohorts,
    compare_windows,
    durability,
    fit_mixed_model,
    hedges_g,
    loss_of_response_times,
    synthetic_cohort,
)

M = "density_per_cm2"


def test_welch_difference_matches_scipy():
    rng = np.random.default_rng(3)
    a, b = rng.normal(20, 5, 17), rng.normal(12, 11, 9)
    c = compare_cohorts(a, b)
    ref = stats.ttest_ind(a, b, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert c.difference == pytest.approx(a.mean() - b.mean())
    assert (c.ci_low, c.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-10)
    assert c.welch_df == pytest.approx(ref.df, rel=1e-10)
    assert c.p_value == pytest.approx(ref.pvalue, rel=1e-10)


def test_hedges_g_against_a_hand_worked_example():
    # a = 1..5 (mean 3), b = 3..7 (mean 5), both variance 2.5 -> pooled SD sqrt(2.5);
    # d = -2 / 1.581139 = -1.264911; J = 1 - 3 / (4 * 10 - 9) = 0.903226; g = -1.142500;
    # se = J * sqrt(10 / 25 + d^2 / 20) = 0.903226 * sqrt(0.48) = 0.625773;
    # CI = g -+ 1.959964 * se = -2.369000 .. 0.084000
    g, low, high = hedges_g([1, 2, 3, 4, 5], [3, 4, 5, 6, 7])
    assert g == pytest.approx(-1.142500, abs=1e-6)
    assert low == pytest.approx(-2.369000, abs=1e-5)
    assert high == pytest.approx(0.084000, abs=1e-5)


def test_comparison_needs_two_values_per_cohort():
    with pytest.raises(OutcomeTableError):
        compare_cohorts([1.0], [1.0, 2.0])


def _outcomes(rows):
    return pd.DataFrame(rows, columns=["patient_id", "visit_day", M])


def test_loss_of_response_definition():
    rows = [
        # responds at 30, still at 90, lost at 180: event after 150 days
        ("a", 0, 100.0), ("a", 30, 115.0), ("a", 90, 120.0), ("a", 180, 105.0), ("a", 365, 130.0),
        # responds at 90, still at 180: censored after 90 days
        ("b", 0, 100.0), ("b", 30, 105.0), ("b", 90, 112.0), ("b", 180, 125.0),
        # never responds: not at risk
        ("c", 0, 100.0), ("c", 90, 101.0),
        # responds at its last visit: censored at 0
        ("d", 0, 100.0), ("d", 90, 150.0),
    ]  # fmt: skip
    spells = loss_of_response_times(_outcomes(rows), M, ResponderRule(delta=10)).set_index(
        "patient_id"
    )
    assert spells.loc["a", ["response_day", "end_day", "duration", "event"]].tolist() == [
        30, 180, 150, 1,
    ]  # fmt: skip
    assert spells.loc["b", ["duration", "event"]].tolist() == [90, 0]
    assert not spells.loc["c", "responded"] and math.isnan(spells.loc["c", "duration"])
    assert spells.loc["d", ["duration", "event"]].tolist() == [0, 0]
    res = durability(_outcomes(rows), M, ResponderRule(delta=10))
    assert (res.n_with_baseline, res.n_responders, res.n_never_responded) == (4, 3, 1)
    assert res.km is not None and res.km.n_events == 1
    # d censored at 0 and b at 90 leave a alone at risk at 150, so the curve drops to 0 there
    assert res.km.median == 150
    only_censored = durability(_outcomes(rows[5:]), M, ResponderRule(delta=10))
    assert only_censored.km is not None and math.isinf(only_censored.km.median)  # not reached


def test_adverse_event_rates_per_patient_and_per_session():
    events = pd.DataFrame(
        {
            "patient_id": ["a", "a", "b", "c"],
            "type": ["bruising", "bruising", "bruising", "infection"],
            "grade": [1, 2, 1, 2],
            "session_id": ["s1", "s2", "s5", None],
        }
    )
    rates = adverse_event_rates(events, n_patients=20, n_sessions=40)
    by = {(r.type, r.grade): r for r in rates}
    any_ = by[("any", None)]
    assert (any_.n_events, any_.patients_with_event, any_.sessions_with_event) == (4, 3, 3)
    bruise = by[("bruising", None)]
    assert (bruise.patients_with_event, bruise.sessions_with_event) == (2, 3)
    assert (bruise.patient_ci_low, bruise.patient_ci_high) == clopper_pearson_ci(2, 20)
    assert (bruise.session_ci_low, bruise.session_ci_high) == clopper_pearson_ci(3, 40)
    assert by[("bruising", "1")].patients_with_event == 2
    assert by[("bruising", "2")].patients_with_event == 1
    inf = by[("infection", None)]
    assert inf.sessions_with_event == 0 and inf.patient_rate == pytest.approx(0.05)
    with pytest.raises(OutcomeTableError):
        adverse_event_rates(events, n_patients=2)


def test_mixed_model_with_covariates_on_a_synthetic_cohort():
    data = synthetic_cohort(
        80, arms={"A": 25.0, "B": 5.0}, windows=(30, 60, 90), ramp_days=90, seed=11
    )
    fit = fit_mixed_model(data, M)
    assert set(fit.covariates) == {"age", "sex", "protocol"}
    assert {"Intercept", "visit_day", "age", "sex[T.M]", "protocol[T.B]"} <= set(fit.fixed)
    # mean slope over both arms: (25 + 5) / 2 per 90 days
    slope = fit.fixed["visit_day"]
    assert slope.ci_low < 15 / 90 < slope.ci_high
    slopes = fit_mixed_model(data, M, covariates=["protocol"], random_slope=True)
    assert slopes.sd_slope > 0 and -1 <= slopes.corr_intercept_slope <= 1
    with pytest.raises(OutcomeTableError, match="missing column"):
        fit_mixed_model(data, M, covariates=["cell_dose"])


def test_compare_windows_by_protocol():
    data = synthetic_cohort(60, arms={"A": 25.0, "B": 5.0}, windows=(14, 180), seed=4)
    data.loc[data["protocol"] == "B", "visit_day"] = data["visit_day"].where(
        data["visit_day"] != 14, 100.0
    )  # cohort B has no day-14 visit
    res = compare_windows(data, M, group_by="protocol", group_a="A", group_b="B")
    assert res[14.0] is None
    c = res[180.0]
    assert c is not None and (c.n_a, c.n_b) == (30, 30)
    assert c.ci_low < 20 < c.ci_high and c.hedges_g > 0
    with pytest.raises(OutcomeTableError, match="no patient in group 'C'"):
        compare_windows(data, M, group_by="protocol", group_a="A", group_b="C")
