"""Property tests of window matching (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from anagen.evidence.change import ResponderRule, summarize_matched
from anagen.evidence.table import validate_outcomes
from anagen.evidence.windows import default_tolerance, match_windows

M = "m"

patient = st.tuples(
    st.booleans(),  # has a baseline
    st.sets(st.integers(-20, 420).filter(lambda d: d != 0), max_size=8),
    st.floats(0, 500, allow_nan=False),
)


@st.composite
def tables(draw):
    patients = draw(st.lists(patient, min_size=1, max_size=12))
    rows = []
    for i, (has_base, days, base) in enumerate(patients):
        if has_base:
            rows.append((f"p{i}", 0.0, base))
        rows += [(f"p{i}", float(d), draw(st.floats(0, 500, allow_nan=False))) for d in days]
    if not any(p[0] for p in patients):
        rows.append(("base", 0.0, 1.0))
    return pd.DataFrame(rows, columns=["patient_id", "visit_day", M])


windows_st = st.lists(st.integers(1, 400), min_size=1, max_size=6, unique=True)
tolerance_st = st.one_of(st.none(), st.integers(0, 60).map(float))


@settings(max_examples=150, deadline=None)
@given(tables(), windows_st, tolerance_st)
def test_window_matching_properties(table, windows, tolerance):
    clean = validate_outcomes(table, M)
    with_base = set(clean.loc[clean["visit_day"] == 0, "patient_id"])
    matched = match_windows(clean, M, windows, tolerance)

    # one row per patient with a baseline and window, never more, never fewer
    assert len(matched) == len(with_base) * len(windows)
    assert not matched.duplicated(["patient_id", "window_day"]).any()
    assert set(matched["patient_id"]) == with_base

    for (pid, w), row in matched.set_index(["patient_id", "window_day"]).iterrows():
        tol = default_tolerance(w) if tolerance is None else tolerance
        own = clean[(clean["patient_id"] == pid) & (clean["visit_day"] > 0)]
        eligible = own[(own["visit_day"] - w).abs() <= tol]
        if eligible.empty:
            assert np.isnan(row["visit_day"]) and np.isnan(row["change"])
            continue
        best = (eligible["visit_day"] - w).abs().min()
        assert abs(row["visit_day"] - w) == best  # the nearest
        assert (
            row["visit_day"]
            == eligible.loc[(eligible["visit_day"] - w).abs() == best, "visit_day"].min()
        )  # ties: the earlier
        assert row["visit_day"] > 0  # the baseline never counts as follow-up
        value = own.loc[own["visit_day"] == row["visit_day"], M].iloc[0]
        assert row["change"] == value - row["baseline"]

    # n + n_missing = patients with a baseline, per window
    for s in summarize_matched(matched, ResponderRule()):
        assert s.n + s.n_missing == len(with_base)
        assert 0 <= s.n_responders <= s.n
