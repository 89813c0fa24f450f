"""Checks of the model against the literature (used by the tests and the figures).

* :func:`steady_state_check` - normal scalp: 85-90 % of hairs in anagen, 10-15 % telogen,
  40-100 hairs shed a day per 100,000 follicles.
* :func:`fluctuation_scaling` - [H2002]: the stochastic fractions converge to the deterministic
  steady state as the number of follicles N grows; the fluctuation SD shrinks like 1/sqrt(N).
* :func:`zone_progression` - AGA thins affected zones over years and spares the occipital zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .meanfield import mean_field, steady_state_fractions
from .params import ZONES, ModelParameters
from .stochastic import DAYS_PER_YEAR, simulate

#: Literature ranges for a normal scalp (DESIGN.md section 2).
NORMAL_RANGES = {
    "anagen_of_hairs": (0.85, 0.90),
    "telogen_of_hairs": (0.10, 0.15),
    "shed_per_day_per_100k": (40.0, 100.0),
}


def steady_state_check(
    n_follicles: int = 100_000,
    years: float = 10.0,
    seed: int = 0,
    params: ModelParameters | None = None,
) -> dict[str, Any]:
    """Simulate a normal scalp and compare its time-averaged state with the literature.

    Returns
    -------
    dict
        ``stochastic`` and ``deterministic`` values of ``anagen_of_hairs``,
        ``telogen_of_hairs`` and ``shed_per_day_per_100k``, and ``ranges``.
    """
    ts = simulate(n_follicles, years, seed, params=params, step="monthly")
    det = steady_state_fractions(params)
    return {
        "stochastic": {
            "anagen_of_hairs": float(np.nanmean(ts.anagen_fraction[0])),
            "telogen_of_hairs": float(np.nanmean(ts.telogen_fraction[0])),
            "shed_per_day_per_100k": float(np.nanmean(ts.shed_per_day_per_100k()[0][1:])),
        },
        "deterministic": {
            "anagen_of_hairs": det["anagen_of_hairs"],
            "telogen_of_hairs": 1.0 - det["anagen_of_hairs"],
            "shed_per_day_per_100k": det["shed_per_day_per_100k"],
        },
        "ranges": NORMAL_RANGES,
        "series": ts,
    }


def fluctuation_scaling(
    sizes: Sequence[int] = (10, 30, 100, 300, 1000, 3000),
    replicates: int = 200,
    years: float = 6.0,
    seed: int = 0,
    params: ModelParameters | None = None,
) -> dict[str, Any]:
    """Fluctuations of the anagen fraction of follicles vs population size N [H2002].

    For each N, ``replicates`` independent populations are simulated for ``years``; the SD of
    the fraction of follicles in anagen across replicates (pooled over the yearly outputs after
    the first year) and the mean absolute deviation of the time-averaged fraction from the
    deterministic steady state are computed, and ``log SD = a + slope * log N`` is fitted.

    Returns
    -------
    dict
        ``sizes``, ``sd``, ``mean_abs_dev``, ``slope``, ``intercept``, ``deterministic``.
    """
    det = steady_state_fractions(params)["anagen"]
    sds, devs = [], []
    for i, n in enumerate(sizes):
        ts = simulate(n, years, seed + 1000 * i, params=params, step="yearly", members=replicates)
        frac = ts.phase_fractions()["anagen"][:, 1:]
        sds.append(float(np.nanmean(np.nanstd(frac, axis=0, ddof=1))))
        devs.append(float(np.nanmean(np.abs(np.nanmean(frac, axis=1) - det))))
    slope, intercept = np.polyfit(np.log(sizes), np.log(sds), 1)
    return {
        "sizes": list(map(int, sizes)),
        "sd": sds,
        "mean_abs_dev": devs,
        "slope": float(slope),
        "intercept": float(intercept),
        "deterministic": det,
    }


def zone_progression(
    severity: float = 0.7,
    years: float = 20.0,
    n_follicles: int = 200,
    seed: int = 0,
    zones: Sequence[str] = ZONES,
    params: ModelParameters | None = None,
) -> dict[str, Any]:
    """AGA progression by scalp zone (stochastic 1 cm2 site and mean-field), onset at year 0.

    Returns
    -------
    dict
        ``t_years`` and, per zone, ``stochastic`` / ``mean_field`` visible and terminal
        densities (hairs/cm2) and mean diameters.
    """
    params = params or ModelParameters()
    out: dict[str, Any] = {}
    grid = np.arange(0.0, years * DAYS_PER_YEAR + 1e-9, DAYS_PER_YEAR / 4)
    out["t_years"] = grid / DAYS_PER_YEAR
    for i, zone in enumerate(zones):
        st = simulate(
            n_follicles,
            years,
            seed + i,
            params=params,
            zone=zone,
            severity=severity,
            aga_onset_years=0.0,
            step=DAYS_PER_YEAR / 4,
        )
        mf = mean_field(
            grid,
            n_follicles=n_follicles,
            params=params,
            severity=severity,
            zone=zone,
            onset_day=0.0,
        )
        out[zone] = {
            "stochastic": {
                "visible_density": st.visible_density[0],
                "terminal_density": st.terminal_density[0],
                "mean_diameter_um": st.mean_diameter_um[0],
            },
            "mean_field": {
                "visible_density": mf.visible_density[0],
                "terminal_density": mf.terminal_density[0],
                "mean_diameter_um": mf.mean_diameter_um[0],
            },
        }
    return out
