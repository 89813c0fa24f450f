"""Change from baseline per window, responders, groups and the table checks."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from anagen.evidence import (
    OutcomeTableError,
    ResponderRule,
    paired_t_ci,
    summarize_change,
    summarize_groups,
    validate_outcomes,
)

M = "density_per_cm2"


def _table(rows):
    return pd.DataFrame(rows, columns=["patient_id", "visit_day", M])


def test_paired_ci_against_a_hand_worked_example():
    # Five patients, baseline 100, day-90 values 102, 104, 106, 108, 110: changes 2..10.
    # mean = 6; sd = sqrt((16 + 4 + 0 + 4 + 16) / 4) = sqrt(10) = 3.16228;
    # se = sqrt(10) / sqrt(5) = sqrt(2) = 1.41421; t(0.975, 4) = 2.776445;
    # half-width = 2.776445 * 1.414214 = 3.926487 -> CI 2.073513 .. 9.926487.
    rows = []
    for i, v in enumerate([102, 104, 106, 108, 110]):
        rows += [(f"p{i}", 0, 100.0), (f"p{i}", 90, float(v))]
    (s,) = summarize_change(_table(rows), M, windows=[90])
    assert (s.n, s.n_missing) == (5, 0)
    assert s.mean_change == pytest.approx(6.0)
    assert s.sd_change == pytest.approx(math.sqrt(10))
    assert s.ci_low == pytest.approx(2.073513, abs=1e-6)
    assert s.ci_high == pytest.approx(9.926487, abs=1e-6)
    assert (s.median_change, s.q1_change, s.q3_change) == (6.0, 4.0, 8.0)
    assert s.mean_percent_change == pytest.approx(6.0)
    # responders (change >= 10): one of five
    assert s.n_responders == 1 and s.responder_rate == pytest.approx(0.2)


def test_paired_ci_edge_cases():
    assert math.isnan(paired_t_ci([]).mean)
    one = paired_t_ci([3.0])
    assert one.mean == 3.0 and math.isnan(one.ci_low) and math.isnan(one.ci_high)
    same = paired_t_ci([2.0, 2.0, 2.0])
    assert (same.ci_low, same.ci_high) == (2.0, 2.0)


def test_missing_visits_are_counted_not_dropped():
    rows = [
        ("a", 0, 100.0),
        ("a", 88, 120.0),  # in window 90
        ("b", 0, 100.0),
        ("b", 150, 130.0),  # outside 90 +- 30
        ("c", 0, 90.0),  # baseline only
        ("d", 92, 140.0),  # no baseline: not in the denominator
    ]
    (s,) = summarize_change(_table(rows), M, windows=[90], tolerance=30)
    assert (s.n, s.n_missing) == (1, 2)
    assert s.mean_change == 20.0 and math.isnan(s.ci_low)


def test_nearest_visit_counts_and_ties_go_to_the_earlier():
    rows = [("a", 0, 100.0), ("a", 80, 110.0), ("a", 93, 130.0), ("a", 85, 120.0)]
    (s,) = summarize_change(_table(rows), M, windows=[90], tolerance=30)
    assert s.mean_change == 30.0  # day 93 (3 days away) beats 85 (5) and 80 (10)
    rows = [("a", 0, 100.0), ("a", 85, 120.0), ("a", 95, 130.0)]
    (s,) = summarize_change(_table(rows), M, windows=[90], tolerance=30)
    assert s.mean_change == 20.0  # tie at 5 days: the earlier visit


def test_default_tolerance_is_documented_rule():
    rows = [("a", 0, 100.0), ("a", 22, 110.0)]  # 8 days from day 14: outside +-7
    (s14, s30) = summarize_change(_table(rows), M, windows=[14, 30])
    assert (s14.tolerance_days, s14.n, s14.n_missing) == (7, 0, 1)
    assert (s30.tolerance_days, s30.n) == (15, 1)


def test_responder_rules_delta_or_percent():
    rows = [("a", 0, 50.0), ("a", 90, 58.0), ("b", 0, 200.0), ("b", 90, 212.0)]
    t = _table(rows)
    (by_delta,) = summarize_change(t, M, windows=[90], rule=ResponderRule(delta=10))
    (by_pct,) = summarize_change(t, M, windows=[90], rule=ResponderRule(None, percent=15))
    (either,) = summarize_change(t, M, windows=[90], rule=ResponderRule(10, 15))
    assert (by_delta.n_responders, by_pct.n_responders, either.n_responders) == (1, 1, 2)
    with pytest.raises(OutcomeTableError):
        ResponderRule(None, None)


def test_zero_baseline_has_no_percent_change():
    (s,) = summarize_change(_table([("a", 0, 0.0), ("a", 90, 5.0)]), M, windows=[90])
    assert math.isnan(s.mean_percent_change) and s.mean_change == 5.0


def test_groups_use_the_baseline_value_of_the_column():
    rows = [
        ("a", 0, 100.0, "X"),
        ("a", 90, 120.0, "X"),
        ("b", 0, 100.0, "Y"),
        ("b", 90, 105.0, "Y"),
        ("c", 0, 100.0, None),
        ("c", 90, 101.0, None),
    ]
    t = pd.DataFrame(rows, columns=["patient_id", "visit_day", M, "protocol"])
    groups = summarize_groups(t, M, group_by="protocol", windows=[90])
    assert [g.group for g in groups] == ["(missing)", "X", "Y"]
    assert [g.timepoints[0].mean_change for g in groups] == [1.0, 20.0, 5.0]
    (all_,) = summarize_groups(t, M, windows=[90])
    assert all_.group == "all" and all_.timepoints[0].n == 3


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("a", 30, 1.0)], "no baseline"),
        ([("a", 0, 1.0), ("a", 0, 2.0)], "more than one"),
        ([("a", "zero", 1.0)], "non-numeric"),
        ([("a", 0, "many")], "non-numeric"),
        ([("a", None, 1.0)], "empty"),
        ([(None, 0, 1.0)], "empty"),
        ([("a", 0, float("inf"))], "infinite"),
    ],
)
def test_bad_tables_are_refused_with_a_reason(rows, message):
    with pytest.raises(OutcomeTableError, match=message):
        validate_outcomes(_table(rows), M)


def test_missing_columns_are_named():
    with pytest.raises(OutcomeTableError, match=r"missing column.*density_per_cm2"):
        validate_outcomes(pd.DataFrame({"patient_id": ["a"], "visit_day": [0]}), M)


def test_a_visit_without_the_measure_is_not_a_measurement():
    rows = [("a", 0, 100.0), ("a", 90, None), ("a", 100, 110.0)]
    (s,) = summarize_change(_table(rows), M, windows=[90], tolerance=30)
    assert s.n == 1 and s.mean_change == 10.0
