"""Calibration, forecast and synthetic cohort."""

from __future__ import annotations

import json

import numpy as np
import pytest

from anagen.follicles import (
    FORECAST_LABEL,
    FollicleSimulator,
    Visit,
    calibrate,
    forecast,
    generate_cohort,
)
from anagen.follicles.stochastic import DAYS_PER_YEAR

DAYS = [0, 14, 30, 60, 90, 180, 365]
SESSIONS = [0.0, 60.0, 120.0]


def _synthetic_site(severity: float, seed: int, response: float = 1.0, years: float = 6.0):
    """Measure a stochastic 1 cm2 site like a phototrichogram would (exact counts)."""
    on = -years * DAYS_PER_YEAR
    sim = FollicleSimulator(
        190,
        severity=severity,
        zone="vertex",
        onset_day=on,
        t_start=on,
        response=response,
        sessions=SESSIONS,
        seed=seed,
        area_cm2=1.0,
    )
    visits = []
    for d in DAYS:
        sim.advance_to(d)
        snap = sim.snapshot()
        visits.append(
            {
                "day": d,
                "density_per_cm2": float(snap["diameter_um"].size),
                "mean_diameter_um": float(snap["diameter_um"].mean()),
            }
        )
    return visits


@pytest.mark.parametrize(("severity", "seed"), [(0.25, 1), (0.6, 2), (0.9, 3)])
def test_calibration_recovers_known_severity_from_stochastic_data(severity, seed):
    visits = _synthetic_site(severity, seed)
    cal = calibrate(visits, session_days=SESSIONS, zone="vertex", years_since_onset=6.0)
    assert abs(cal.severity - severity) < 0.12, cal.to_dict()
    assert cal.severity_sd < 0.15
    assert 150 < cal.follicles_per_cm2 < 230
    assert cal.posterior.sum() == pytest.approx(1.0)


def test_calibration_separates_responder_from_non_responder():
    # precise counts (3 %, phototrichogram with manual correction); with the default 8 % the
    # response posterior stays close to its prior, which is the honest answer
    kw = {"session_days": SESSIONS, "years_since_onset": 6.0, "density_sd_fraction": 0.03}
    hi = calibrate(_synthetic_site(0.6, 5, response=2.0), **kw)
    lo = calibrate(_synthetic_site(0.6, 5, response=0.0), **kw)
    assert hi.response > lo.response + 0.4
    assert lo.response < 0.6


def test_calibration_input_validation():
    with pytest.raises(ValueError, match="zone"):
        calibrate([Visit(0, 180, 70)], zone="nape")
    with pytest.raises(ValueError, match="at least one"):
        calibrate([])
    with pytest.raises(ValueError, match=">= 0"):
        calibrate([Visit(-3, 180, 70)])
    with pytest.raises(ValueError, match="density"):
        calibrate([{"day": 0, "density_per_cm2": -1}])
    with pytest.raises(ValueError, match="missing"):
        calibrate([{"day": 0}])


@pytest.fixture(scope="module")
def patient_forecast():
    visits = _synthetic_site(0.5, 7)[:5]  # up to day 90
    cal = calibrate(visits, session_days=SESSIONS, zone="vertex", years_since_onset=6.0)
    return cal, forecast(cal, members=300, seed=3)


def test_forecast_structure_and_label(patient_forecast):
    _, fc = patient_forecast
    d = fc.to_dict()
    json.dumps(d)  # JSON serialisable
    assert d["label"] == FORECAST_LABEL
    assert "not a promise" in d["label"] and "model" in d["label"].lower()
    assert d["days"][0] == 0 and d["days"][-1] == pytest.approx(730)
    assert set(d["scenarios"]) == {"with_further_sessions", "no_further_sessions"}
    for sc in d["scenarios"].values():
        for key in ("density_per_cm2", "terminal_density_per_cm2", "mean_diameter_um"):
            band = {k: np.array(v) for k, v in sc[key].items()}
            assert band["p05"].shape == band["median"].shape == (len(d["days"]),)
            assert np.all(band["p05"] <= band["median"]) and np.all(band["median"] <= band["p95"])
    assert len(d["scenarios"]["with_further_sessions"]["session_days"]) > len(SESSIONS)
    assert d["scenarios"]["no_further_sessions"]["session_days"] == SESSIONS


def test_forecast_further_sessions_direction(patient_forecast):
    _, fc = patient_forecast
    w = np.array(fc.scenarios["with_further_sessions"]["density_per_cm2"]["median"])
    n = np.array(fc.scenarios["no_further_sessions"]["density_per_cm2"]["median"])
    days = fc.days
    before = days <= 90
    np.testing.assert_array_equal(w[before], n[before])  # common past
    assert w[-1] > n[-1]  # further sessions keep more hairs at 24 months (model hypothesis)
    assert np.all(w[days >= 300] >= n[days >= 300])


def test_forecast_is_deterministic(patient_forecast):
    cal, fc = patient_forecast
    again = forecast(cal, members=300, seed=3)
    assert again.to_dict() == fc.to_dict()
    with pytest.raises(ValueError):
        forecast(cal, members=0)


def test_cohort_structure_and_consistency():
    cohort = generate_cohort(seed=5, n_patients=12, visit_days=[0, 14, 30, 90])
    assert len(cohort) == 12
    assert any(p.treated for p in cohort) and any(not p.treated for p in cohort)
    for p in cohort:
        assert [v.day for v in p.visits] == [0, 14, 30, 90]
        assert p.zone in {"frontal", "mid_scalp", "vertex", "temporal", "occipital"}
        if not p.treated:
            assert p.session_days == [] and p.response == 0.0
        for v in p.visits:
            assert v.hair_count == len(v.hairs) <= p.n_follicles
            assert v.density_per_cm2 == pytest.approx(v.hair_count / 1.0)
            diam = np.array([h.diameter_um for h in v.hairs])
            assert v.terminal_density_per_cm2 == np.sum(diam > 40.0)
            assert {h.phase for h in v.hairs} <= {"anagen", "telogen"}
            assert all(h.terminal == (h.diameter_um > 40.0) for h in v.hairs)
            if v.hairs:
                assert v.mean_diameter_um == pytest.approx(diam.mean(), abs=0.01)
                assert 10 < v.mean_diameter_um < 120
    d = cohort[0].to_dict()
    json.dumps(d)
    assert "MODEL" in d["label"]


def test_cohort_is_deterministic_by_seed():
    a = generate_cohort(seed=9, n_patients=3, visit_days=[0, 30])
    b = generate_cohort(seed=9, n_patients=3, visit_days=[0, 30])
    c = generate_cohort(seed=10, n_patients=3, visit_days=[0, 30])
    assert [p.to_dict() for p in a] == [p.to_dict() for p in b]
    assert [p.to_dict() for p in a] != [p.to_dict() for p in c]
    with pytest.raises(ValueError):
        generate_cohort(seed=1, n_patients=-1)
    with pytest.raises(ValueError):
        generate_cohort(seed=1, n_patients=1, visit_days=[-5])


def test_same_follicle_keeps_its_identity_across_visits():
    p = generate_cohort(seed=3, n_patients=1, visit_days=[0, 2])[0]
    v0 = {h.follicle: h for h in p.visits[0].hairs}
    v2 = {h.follicle: h for h in p.visits[1].hairs}
    common = [f for f in v0 if f in v2 and v0[f].phase == v2[f].phase == "anagen"]
    assert len(common) > 100
    # an anagen hair grows ~0.35 mm/day and keeps its diameter between two close visits
    for f in common:
        assert v2[f].length_mm - v0[f].length_mm == pytest.approx(0.7, abs=0.02)
        assert v2[f].diameter_um == v0[f].diameter_um


def test_telogen_hairs_stop_growing():
    sim = FollicleSimulator(3_000, seed=4)
    sim.advance_to(400.0)
    before = sim.snapshot()
    sim.advance_to(420.0)
    after = sim.snapshot()
    tel_before = {
        f: length
        for f, p, length in zip(
            before["follicle"], before["phase"], before["length_mm"], strict=True
        )
        if p == 1
    }
    same = [
        (tel_before[f], length)
        for f, p, length in zip(after["follicle"], after["phase"], after["length_mm"], strict=True)
        if p == 1 and f in tel_before
    ]
    assert len(same) > 50
    assert all(a == b for a, b in same)
    assert all(a > 0 for a, _ in same)


def _thin_haired_site(seed: int = 11):
    """A patient whose own terminal hairs are thinner (58 um) than the population's (75 um)."""
    from dataclasses import replace

    from anagen.follicles import ModelParameters

    base = ModelParameters()
    params = replace(base, alopecia=replace(base.alopecia, terminal_diameter_mean_um=58.0))
    on = -6.0 * DAYS_PER_YEAR
    sim = FollicleSimulator(
        190,
        params=params,
        severity=0.4,
        zone="vertex",
        onset_day=on,
        t_start=on,
        response=1.0,
        sessions=SESSIONS,
        seed=seed,
        area_cm2=1.0,
    )
    visits = []
    for d in (0, 30, 90):
        sim.advance_to(d)
        snap = sim.snapshot()
        visits.append(Visit(d, float(snap["diameter_um"].size), float(snap["diameter_um"].mean())))
    return visits


def test_forecast_diameter_starts_from_the_patients_own_baseline_diameter():
    visits = _thin_haired_site()
    measured = visits[0].mean_diameter_um
    assert measured is not None
    kw = {"session_days": SESSIONS, "zone": "vertex", "years_since_onset": 6.0}
    anchored = calibrate(visits, **kw)
    population = calibrate(visits, anchor_diameter=False, **kw)
    assert population.terminal_diameter_um is None
    assert anchored.terminal_diameter_um is not None
    assert anchored.to_dict()["terminal_diameter_um"] == anchored.terminal_diameter_um

    def start(cal):
        band = forecast(cal, members=200, seed=1).scenarios["no_further_sessions"]
        return band["mean_diameter_um"]["median"][0]

    assert abs(start(anchored) - measured) < 3.0
    assert abs(start(anchored) - measured) < abs(start(population) - measured)


def test_diameter_anchor_without_any_measured_diameter_falls_back_to_the_population():
    cal = calibrate([Visit(0, 150), Visit(60, 155)], session_days=[0.0])
    assert cal.terminal_diameter_um is None and cal.terminal_diameter_grid is None
    with pytest.raises(ValueError, match="prior"):
        calibrate([Visit(0, 150, 60)], terminal_diameter_prior_sd_um=0)


def test_profiled_caliber_reads_a_thin_haired_patient_as_less_severe():
    """With the caliber in the likelihood, thin hair is not all read as miniaturization."""
    visits = _thin_haired_site()
    kw = {"session_days": SESSIONS, "zone": "vertex", "years_since_onset": 6.0}
    absolute = calibrate(visits, **kw)
    profiled = calibrate(visits, terminal_diameter_prior_sd_um=8.0, **kw)
    assert profiled.severity < absolute.severity - 0.1  # the truth is 0.4
