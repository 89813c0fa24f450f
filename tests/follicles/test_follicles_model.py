"""Follicular automaton: literature checks, stochastic vs mean-field, determinism, validation."""

from __future__ import annotations

import numpy as np
import pytest

from anagen.follicles import (
    FollicleSimulator,
    ModelParameters,
    mean_field,
    simulate,
    steady_state_fractions,
)
from anagen.follicles.checks import fluctuation_scaling, steady_state_check, zone_progression
from anagen.follicles.reference import naive_daily_simulation
from anagen.follicles.stochastic import DAYS_PER_YEAR, output_grid


# ----------------------------------------------------------------------------- literature
def test_normal_scalp_steady_state_in_literature_ranges():
    res = steady_state_check(n_follicles=50_000, years=5.0, seed=11)
    for source in ("stochastic", "deterministic"):
        vals = res[source]
        assert 0.85 <= vals["anagen_of_hairs"] <= 0.90, (source, vals)
        assert 0.10 <= vals["telogen_of_hairs"] <= 0.15, (source, vals)
        assert 40.0 <= vals["shed_per_day_per_100k"] <= 100.0, (source, vals)


def test_every_monthly_anagen_fraction_of_a_large_scalp_stays_in_range():
    ts = simulate(100_000, 3.0, seed=5)
    af = ts.anagen_fraction[0]
    assert np.all((af >= 0.85) & (af <= 0.90))
    shed = ts.shed_per_day_per_100k()[0][1:]
    assert np.all((shed >= 40) & (shed <= 100))


def test_follicle_count_is_conserved():
    ts = simulate(3_000, 20.0, seed=2, severity=1.0, aga_onset_years=0.0)
    total = ts.anagen + ts.telogen + ts.latency + ts.dead
    assert np.all(total == 3_000)
    assert ts.dead[0, -1] > 0.1 * 3_000  # follicles die of AGA after the critical stage
    assert ts.dead[0, 12] == 0  # but not in the first year


# ----------------------------------------------------------------------------- vs mean-field
def test_stochastic_time_average_matches_deterministic_steady_state():
    det = steady_state_fractions()
    ts = simulate(20_000, 8.0, seed=3, step="yearly")
    fr = ts.phase_fractions()
    for phase in ("anagen", "telogen", "latency"):
        assert abs(np.mean(fr[phase][0]) - det[phase]) < 0.006, phase


def test_stochastic_ensemble_mean_matches_mean_field_under_aga():
    grid = output_grid(14, DAYS_PER_YEAR)
    kw = {"severity": 0.8, "zone": "frontal", "onset_day": 0.0}
    mf = mean_field(grid, n_follicles=200, **kw)
    st = simulate(
        200,
        14,
        seed=4,
        severity=0.8,
        zone="frontal",
        aga_onset_years=0.0,
        members=150,
        step=DAYS_PER_YEAR,
    )
    np.testing.assert_allclose(st.visible[:, :].mean(0), mf.visible[0], rtol=0.02)
    np.testing.assert_allclose(np.nanmean(st.mean_diameter_um, 0), mf.mean_diameter_um[0], atol=1.0)
    np.testing.assert_allclose(st.terminal.mean(0), mf.terminal[0], rtol=0.04, atol=2.0)


def test_stochastic_matches_mean_field_with_treatment():
    on = -5 * DAYS_PER_YEAR
    sess = [0.0, 60.0, 120.0]
    grid = np.arange(0.0, 361.0, 60.0)
    mf = mean_field(
        grid, n_follicles=200, severity=0.5, onset_day=on, t_start=on, response=1.0, sessions=sess
    )
    sim = FollicleSimulator(
        [200] * 200, severity=0.5, onset_day=on, t_start=on, response=1.0, sessions=sess, seed=8
    )
    sim.advance_to(360.0)
    st = sim.timeseries(grid)
    np.testing.assert_allclose(st.visible.mean(0), mf.visible[0], rtol=0.015)
    np.testing.assert_allclose(st.latency.mean(0), mf.latency[0], atol=1.5)


def test_event_driven_matches_naive_daily_reference():
    days = 6 * 365
    ref = naive_daily_simulation(400, days, seed=1, severity=0.7, onset_day=0)
    st = simulate(
        400, days / DAYS_PER_YEAR, seed=1, severity=0.7, aga_onset_years=0.0, members=20, step=365.0
    )
    ref_vis = np.array(ref["anagen"]) + np.array(ref["telogen"])
    # last day: reference single run vs event-driven ensemble mean +- 4 SD of one run
    sd = st.visible[:, -1].std(ddof=1)
    assert abs(ref_vis[-1] - st.visible[:, -1].mean()) < 4 * sd + 2
    a, t = np.array(ref["anagen"]), np.array(ref["telogen"])
    assert abs((a / (a + t))[:365].mean() - np.nanmean(st.anagen_fraction[:, :2])) < 0.02


# ----------------------------------------------------------------------------- 1/sqrt(N)
def test_fluctuations_shrink_like_inverse_sqrt_n():
    res = fluctuation_scaling(sizes=(10, 30, 100, 300, 1000), replicates=120, years=4.0, seed=9)
    assert -0.6 < res["slope"] < -0.4, res
    sd = np.array(res["sd"])
    assert np.all(np.diff(sd) < 0)
    dev = np.array(res["mean_abs_dev"])
    assert dev[-1] < dev[0] / 4  # converge to the deterministic steady state


# ----------------------------------------------------------------------------- AGA by zone
def test_aga_thins_affected_zones_and_spares_occipital():
    res = zone_progression(severity=0.7, years=15.0, n_follicles=1000, seed=1)
    for zone in ("frontal", "mid_scalp", "vertex"):
        for model in ("stochastic", "mean_field"):
            vis = res[zone][model]["visible_density"]
            term = res[zone][model]["terminal_density"]
            assert vis[-1] < 0.85 * vis[0], (zone, model)
            assert term[-1] < 0.6 * term[0], (zone, model)
    temporal = res["temporal"]["mean_field"]["visible_density"]
    vertex = res["vertex"]["mean_field"]["visible_density"]
    assert vertex[-1] < temporal[-1] < temporal[0]
    occ = res["occipital"]["stochastic"]
    assert abs(occ["visible_density"][-1] / occ["visible_density"][0] - 1) < 0.05
    assert abs(occ["mean_diameter_um"][-1] - occ["mean_diameter_um"][0]) < 1.5
    occ_mf = res["occipital"]["mean_field"]["visible_density"]
    assert np.allclose(occ_mf, occ_mf[0], rtol=1e-6)


def test_visible_density_counts_telogen_hairs_until_shed():
    sim = FollicleSimulator(5_000, seed=3)
    snap = sim.snapshot()
    assert set(np.unique(snap["phase"])) == {0, 1}
    ts = sim.timeseries([0.0])
    assert ts.visible[0, 0] == len(snap["phase"]) == ts.anagen[0, 0] + ts.telogen[0, 0]


def test_vellus_threshold_is_configurable():
    sim = FollicleSimulator(2_000, severity=1.0, onset_day=0.0, seed=5)
    sim.advance_to(8 * DAYS_PER_YEAR)
    low = sim.timeseries([sim.t], vellus_threshold_um=30.0).terminal[0, 0]
    high = sim.timeseries([sim.t], vellus_threshold_um=60.0).terminal[0, 0]
    snap = sim.snapshot()
    assert low == np.sum(snap["diameter_um"] > 30.0)
    assert high == np.sum(snap["diameter_um"] > 60.0)
    assert low > high


# ----------------------------------------------------------------------------- treatment
def test_treatment_direction_mean_field():
    on = -6 * DAYS_PER_YEAR
    grid = [0.0, 90.0, 180.0, 365.0]
    mf = mean_field(
        grid,
        n_follicles=200,
        severity=0.6,
        onset_day=on,
        t_start=on,
        response=[0.0, 1.0],
        sessions=[0.0, 60.0, 120.0],
    )
    none, treated = mf.visible[0], mf.visible[1]
    assert np.all(treated[1:] > none[1:] + 3)  # more hairs present
    assert np.all(mf.latency[1, 1:] < mf.latency[0, 1:])  # fewer empty follicles
    assert np.all(mf.mean_diameter_um[1, 1:] >= mf.mean_diameter_um[0, 1:] - 1e-9)


def test_treatment_direction_stochastic_and_no_effect_without_response():
    on = -6 * DAYS_PER_YEAR
    sess = [0.0, 60.0, 120.0]
    grid = [0.0, 180.0]
    runs = {}
    for name, resp, s in (("none", 1.0, []), ("treated", 1.0, sess), ("nonresp", 0.0, sess)):
        sim = FollicleSimulator(
            [200] * 100, severity=0.6, onset_day=on, t_start=on, response=resp, sessions=s, seed=21
        )
        sim.advance_to(180.0)
        runs[name] = sim.timeseries(grid).visible.mean(0)
    assert runs["treated"][1] > runs["none"][1] + 3
    # response 0 reproduces the untreated run exactly (same seed, no extra random draws)
    np.testing.assert_array_equal(runs["nonresp"], runs["none"])


# ----------------------------------------------------------------------------- determinism
def test_same_seed_same_result_different_seed_different_result():
    a = simulate(2_000, 5, seed=42, severity=0.5, aga_onset_years=1.0)
    b = simulate(2_000, 5, seed=42, severity=0.5, aga_onset_years=1.0)
    c = simulate(2_000, 5, seed=43, severity=0.5, aga_onset_years=1.0)
    np.testing.assert_array_equal(a.anagen, b.anagen)
    np.testing.assert_array_equal(a.diameter_sum_um, b.diameter_sum_um)
    assert not np.array_equal(a.anagen, c.anagen)


def test_output_step_does_not_change_the_trajectory():
    daily = simulate(500, 2, seed=7, step=1.0, severity=0.8, aga_onset_years=0.5)
    weekly = simulate(500, 2, seed=7, step=7.0, severity=0.8, aga_onset_years=0.5)
    np.testing.assert_array_equal(daily.visible[:, ::7], weekly.visible)
    np.testing.assert_allclose(daily.diameter_sum_um[:, ::7], weekly.diameter_sum_um)
    # shedding: a week's rate is the mean of its seven daily rates
    np.testing.assert_allclose(
        daily.shed_per_day[0, 1 : 1 + 7 * (weekly.t_days.size - 1)].reshape(-1, 7).mean(axis=1),
        weekly.shed_per_day[0, 1:],
    )


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_follicles": -1, "years": 1}, "follicles"),
        ({"n_follicles": 10, "years": -1}, "years"),
        ({"n_follicles": 10, "years": 1, "zone": "nape"}, "zone"),
        ({"n_follicles": 10, "years": 1, "aga_onset_years": -2}, "aga_onset_years"),
        ({"n_follicles": 10, "years": 1, "severity": 1.5, "aga_onset_years": 0}, "severity"),
        ({"n_follicles": 10, "years": 1, "step": "weekly"}, "step"),
        ({"n_follicles": "many", "years": 1}, "follicles"),
    ],
)
def test_simulate_rejects_bad_input_with_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate(seed=0, **kwargs)


def test_mean_field_and_simulator_validation():
    with pytest.raises(ValueError, match="zone"):
        mean_field([0.0], zone="crown")
    with pytest.raises(ValueError, match="severity"):
        mean_field([0.0], severity=-0.1)
    with pytest.raises(ValueError, match="follicles"):
        FollicleSimulator([10, -3])
    sim = FollicleSimulator(10)
    sim.advance_to(5.0)
    with pytest.raises(ValueError, match="back in time"):
        sim.advance_to(1.0)
    with pytest.raises(ValueError, match="output times"):
        sim.timeseries([0.0, 10.0])


def test_parameters_are_documented_dataclasses():
    p = ModelParameters()
    d = p.to_dict()
    assert d["cycle"]["anagen_mean_days"] > d["cycle"]["telogen_mean_days"]
    assert 2 * 365 <= p.cycle.anagen_mean_days <= 7 * 365
    assert d["vellus_threshold_um"] == 40.0
    from anagen.follicles import params as mod

    for cls in (mod.CycleParameters, mod.AlopeciaParameters, mod.TreatmentHypothesis):
        for name in cls.__dataclass_fields__:
            assert name in cls.__doc__, f"{cls.__name__}.{name} undocumented"
    assert "HYP" in mod.TreatmentHypothesis.__doc__ and "model" in mod.TreatmentHypothesis.__doc__
