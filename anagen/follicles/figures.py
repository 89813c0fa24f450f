"""Figures of the follicle model (matplotlib, Agg backend): ``anagen follicles figures``.

Writes ``follicles_steady_state.png``, ``follicles_convergence.png``,
``follicles_aga_zones.png`` and ``follicles_forecast.png``.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from .checks import NORMAL_RANGES, fluctuation_scaling, steady_state_check, zone_progression
from .forecast import Visit, calibrate, forecast
from .meanfield import mean_field
from .params import MODEL_LABEL, ZONES, ModelParameters
from .series import DAYS_PER_YEAR

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _plt() -> ModuleType:
    """``matplotlib.pyplot`` on the Agg backend, imported only when a figure is drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Figure, path: Path) -> Path:
    """Lay out, write at the docs' resolution and free the figure (Agg keeps it otherwise)."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path


def fig_steady_state(out: Path, seed: int = 0) -> Path:
    """Normal scalp: phase fractions over 10 years, 100,000 follicles vs deterministic."""
    plt = _plt()
    res = steady_state_check(100_000, 10.0, seed)
    ts = res["series"]
    yrs = ts.t_days / DAYS_PER_YEAR
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ax = axes[0]
    ax.plot(yrs, 100 * ts.anagen_fraction[0], label="anagen (stochastic, N=100,000)")
    ax.plot(yrs, 100 * ts.telogen_fraction[0], label="telogen (stochastic)")
    det = res["deterministic"]["anagen_of_hairs"]
    ax.axhline(100 * det, color="k", ls="--", lw=1, label="deterministic steady state")
    ax.axhline(100 * (1 - det), color="k", ls="--", lw=1)
    lo, hi = NORMAL_RANGES["anagen_of_hairs"]
    ax.axhspan(100 * lo, 100 * hi, color="g", alpha=0.15, label="literature 85-90 %")
    lo, hi = NORMAL_RANGES["telogen_of_hairs"]
    ax.axhspan(100 * lo, 100 * hi, color="orange", alpha=0.15, label="literature 10-15 %")
    ax.set_xlabel("years")
    ax.set_ylabel("% of hairs present")
    ax.set_title("Normal scalp: phase of the hairs present")
    ax.legend(fontsize=7, loc="center right")
    ax = axes[1]
    shed = ts.shed_per_day_per_100k()[0]
    ax.plot(yrs[1:], shed[1:], label="stochastic (monthly mean)")
    ax.axhline(
        res["deterministic"]["shed_per_day_per_100k"],
        color="k",
        ls="--",
        lw=1,
        label="deterministic",
    )
    ax.axhspan(40, 100, color="g", alpha=0.15, label="literature 40-100 / day")
    ax.set_ylim(0, 140)
    ax.set_xlabel("years")
    ax.set_ylabel("hairs shed per day per 100,000 follicles")
    ax.set_title("Daily shedding")
    ax.legend(fontsize=7)
    fig.suptitle("Follicular automaton, normal scalp (model)", fontsize=10)
    return _save(fig, out / "follicles_steady_state.png")


def fig_convergence(out: Path, seed: int = 0) -> Path:
    """Fluctuations vs population size: SD ~ N^-1/2 (Halloy et al. 2002)."""
    plt = _plt()
    from .stochastic import simulate

    res = fluctuation_scaling(seed=seed)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ax = axes[0]
    for n in (20, 200, 20_000):
        ts = simulate(n, 10.0, seed + n, step="monthly")
        ax.plot(
            ts.t_days / DAYS_PER_YEAR,
            100 * ts.phase_fractions()["anagen"][0],
            lw=1,
            label=f"N = {n:,}",
        )
    ax.axhline(100 * res["deterministic"], color="k", ls="--", lw=1, label="deterministic")
    ax.set_xlabel("years")
    ax.set_ylabel("% of follicles in anagen")
    ax.set_title("Small populations fluctuate")
    ax.legend(fontsize=8)
    ax = axes[1]
    ns = np.array(res["sizes"], dtype=float)
    ax.loglog(ns, res["sd"], "o", label="SD across 200 replicates")
    ax.loglog(
        ns,
        np.exp(res["intercept"]) * ns ** res["slope"],
        "-",
        label=f"fit: slope {res['slope']:.3f}",
    )
    ax.loglog(ns, res["sd"][0] * (ns / ns[0]) ** -0.5, ":", color="k", label="slope -1/2")
    ax.loglog(ns, res["mean_abs_dev"], "s", ms=4, label="|time mean - deterministic|")
    ax.set_xlabel("follicles N")
    ax.set_ylabel("anagen fraction fluctuation")
    ax.set_title("Convergence to the deterministic model")
    ax.legend(fontsize=8)
    return _save(fig, out / "follicles_convergence.png")


def fig_aga_zones(out: Path, seed: int = 0) -> Path:
    """AGA progression (severity 0.7, onset year 0) by scalp zone."""
    plt = _plt()
    res = zone_progression(severity=0.7, years=20.0, seed=seed)
    t = res["t_years"]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for i, zone in enumerate(ZONES):
        c = f"C{i}"
        for ax, key in zip(
            axes, ("visible_density", "terminal_density", "mean_diameter_um"), strict=True
        ):
            ax.plot(t, res[zone]["stochastic"][key], color=c, lw=0.8, alpha=0.6)
            ax.plot(t, res[zone]["mean_field"][key], color=c, lw=2, label=zone)
    axes[0].set_ylabel("visible hairs / cm2 (anagen + telogen)")
    axes[1].set_ylabel("terminal hairs / cm2 (> 40 um)")
    axes[2].set_ylabel("mean shaft diameter (um)")
    for ax in axes:
        ax.set_xlabel("years since AGA onset")
    axes[0].legend(fontsize=8)
    fig.suptitle(
        "AGA progression by zone (model; thick: mean-field, thin: one 1 cm2 site)", fontsize=10
    )
    return _save(fig, out / "follicles_aga_zones.png")


def example_patient(seed: int = 0) -> tuple[list[Visit], list[float]]:
    """A synthetic vertex patient (severity 0.5, 6 years of AGA, response 1) with 3 sessions."""
    params = ModelParameters()
    days = [0, 14, 30, 60, 90, 180]
    sessions: list[float] = [0, 60, 120]
    rng = np.random.default_rng(seed)
    truth = mean_field(
        days,
        n_follicles=190,
        params=params,
        severity=0.5,
        zone="vertex",
        onset_day=-6 * DAYS_PER_YEAR,
        t_start=-6 * DAYS_PER_YEAR,
        response=1.0,
        sessions=sessions,
    )
    visits = [
        Visit(d, float(v * (1 + 0.03 * rng.standard_normal())), float(md + rng.normal(0, 1.0)))
        for d, v, md in zip(days, truth.visible[0], truth.mean_diameter_um[0], strict=True)
    ]
    return visits, sessions


def fig_forecast(out: Path, seed: int = 0) -> Path:
    """Calibrate a synthetic patient and plot the 24-month forecast bands."""
    plt = _plt()
    visits, sessions = example_patient(seed)
    cal = calibrate(visits, session_days=sessions, zone="vertex", years_since_onset=6.0)
    fc = forecast(cal, members=1000, seed=seed)
    d = fc.to_dict()
    days = np.array(d["days"])
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, color in (("with_further_sessions", "C2"), ("no_further_sessions", "C3")):
        sc = d["scenarios"][name]["density_per_cm2"]
        ax.fill_between(days, sc["p05"], sc["p95"], color=color, alpha=0.2)
        ax.plot(
            days,
            sc["median"],
            color=color,
            lw=2,
            label=name.replace("_", " ") + " (median, 5-95 %)",
        )
    ax.plot(
        [v.day for v in visits],
        [v.density_per_cm2 for v in visits],
        "ko",
        label="measured (synthetic)",
    )
    for s in d["scenarios"]["with_further_sessions"]["session_days"]:
        ax.axvline(s, color="C2" if s > max(sessions) else "grey", ls=":", lw=1)
    ax.set_xlabel("days from baseline")
    ax.set_ylabel("hairs / cm2")
    ax.set_title(
        f"Model forecast, 1 cm2 vertex site (severity {cal.severity:.2f}, "
        f"response {cal.response:.2f})",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="lower left")
    fig.text(0.01, 0.01, "MODEL FORECAST - not a promise of results", fontsize=7, color="grey")
    return _save(fig, out / "follicles_forecast.png")


def make_figures(out_dir: str | Path, seed: int = 0, progress: bool = True) -> list[Path]:
    """Regenerate every follicle figure into ``out_dir``; returns the written paths."""
    from tqdm import tqdm

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    makers = (fig_steady_state, fig_convergence, fig_aga_zones, fig_forecast)
    paths = []
    for make in tqdm(makers, desc="follicle figures", disable=not progress, leave=False):
        paths.append(make(out, seed))
    return paths


__all__ = ["MODEL_LABEL", "example_patient", "make_figures"]
