"""Population time series: what the follicle models report.

Both the stochastic automaton and the mean-field model return a :class:`TimeSeries` on an
output grid from :func:`output_grid`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .params import MODEL_LABEL

__all__ = ["DAYS_PER_YEAR", "TimeSeries", "output_grid"]

DAYS_PER_YEAR = 365.25


@dataclass
class TimeSeries:
    """Population time series of a stochastic or mean-field run.

    All arrays have shape ``(members, len(t_days))`` (``members`` = 1 for a single population)
    except ``t_days``. Counts are numbers of follicles (stochastic) or expected numbers
    (mean-field).

    Attributes
    ----------
    t_days : ndarray
        Output times, days.
    anagen, telogen, latency, dead : ndarray
        Follicles in each phase.
    terminal : ndarray
        Hairs present (anagen + telogen) thicker than the vellus threshold.
    diameter_sum_um : ndarray
        Sum of the diameters of the hairs present.
    shed_per_day : ndarray
        Hairs shed per day over the interval ending at each output time (NaN for the first
        output if it coincides with the start).
    area_cm2 : float or ndarray
        Skin area the follicles stand on (follicles / follicles_per_cm2); a column of one area
        per member when the members' areas differ.
    vellus_threshold_um : float
        Threshold used for ``terminal``.
    """

    t_days: npt.NDArray[np.float64]
    anagen: npt.NDArray[np.float64]
    telogen: npt.NDArray[np.float64]
    latency: npt.NDArray[np.float64]
    dead: npt.NDArray[np.float64]
    terminal: npt.NDArray[np.float64]
    diameter_sum_um: npt.NDArray[np.float64]
    shed_per_day: npt.NDArray[np.float64]
    area_cm2: float | npt.NDArray[np.float64]
    vellus_threshold_um: float
    label: str = MODEL_LABEL

    @property
    def visible(self) -> npt.NDArray[np.float64]:
        """Hairs present on the skin (anagen + telogen; telogen hairs stay until shed)."""
        return self.anagen + self.telogen

    @property
    def anagen_fraction(self) -> npt.NDArray[np.float64]:
        """Share of the hairs present that are in anagen (what a phototrichogram measures)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.anagen / self.visible

    @property
    def telogen_fraction(self) -> npt.NDArray[np.float64]:
        """Share of the hairs present that are in telogen."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.telogen / self.visible

    def phase_fractions(self) -> dict[str, npt.NDArray[np.float64]]:
        """Fractions of *living* follicles in anagen, telogen and latency (as in [H2000])."""
        alive = self.anagen + self.telogen + self.latency
        with np.errstate(invalid="ignore", divide="ignore"):
            return {
                "anagen": self.anagen / alive,
                "telogen": self.telogen / alive,
                "latency": self.latency / alive,
            }

    @property
    def visible_density(self) -> npt.NDArray[np.float64]:
        """Hairs present per cm2."""
        return self.visible / self.area_cm2

    @property
    def terminal_density(self) -> npt.NDArray[np.float64]:
        """Terminal hairs (> vellus threshold) per cm2."""
        return self.terminal / self.area_cm2

    @property
    def mean_diameter_um(self) -> npt.NDArray[np.float64]:
        """Mean shaft diameter of the hairs present, um."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.diameter_sum_um / self.visible

    def shed_per_day_per_100k(self) -> npt.NDArray[np.float64]:
        """Hairs shed per day scaled to a 100,000-follicle scalp."""
        n = (self.anagen + self.telogen + self.latency + self.dead)[:, :1]
        return self.shed_per_day * 1e5 / n

    def rows(self, member: int = 0) -> list[dict[str, float | None]]:
        """Return one dictionary per output time for ``member`` (JSON friendly)."""
        out: list[dict[str, float | None]] = []
        af = self.anagen_fraction[member]
        vd = self.visible_density[member]
        td = self.terminal_density[member]
        md = self.mean_diameter_um[member]
        sh = self.shed_per_day[member]
        for j, t in enumerate(self.t_days):
            out.append(
                {
                    "day": float(t),
                    "year": float(t / DAYS_PER_YEAR),
                    "anagen_fraction": _f(af[j]),
                    "visible_density_per_cm2": _f(vd[j]),
                    "terminal_density_per_cm2": _f(td[j]),
                    "mean_diameter_um": _f(md[j]),
                    "shed_per_day": _f(sh[j]),
                    "anagen": _f(self.anagen[member, j]),
                    "telogen": _f(self.telogen[member, j]),
                    "latency": _f(self.latency[member, j]),
                    "dead": _f(self.dead[member, j]),
                }
            )
        return out


def _f(x: float) -> float | None:
    x = float(x)
    return None if not np.isfinite(x) else round(x, 6)


def output_grid(
    years: float, step: str | float = "monthly", t0: float = 0.0
) -> npt.NDArray[np.float64]:
    """Output days ``t0 .. t0 + years`` at a fixed step.

    Parameters
    ----------
    years : float
        Span of the grid.
    step : {"monthly", "daily", "yearly"} or float, default "monthly"
        Step; a number is a step in days (> 0).
    t0 : float, default 0.0
        First output day.

    Returns
    -------
    ndarray
        ``t0, t0 + step, ...`` up to and including ``t0 + years`` when it falls on the grid.

    Raises
    ------
    ValueError
        On an unknown or non-positive step.
    """
    if step == "daily":
        dt = 1.0
    elif step == "monthly":
        dt = DAYS_PER_YEAR / 12.0
    elif step == "yearly":
        dt = DAYS_PER_YEAR
    else:
        try:
            dt = float(step)
        except (TypeError, ValueError):
            raise ValueError(f"unknown step {step!r}; use daily, monthly, yearly or days") from None
        if not dt > 0:
            raise ValueError("step must be > 0 days")
    end = t0 + years * DAYS_PER_YEAR
    n = int(np.floor((end - t0) / dt + 1e-9))
    grid = t0 + dt * np.arange(n + 1, dtype=np.float64)
    return grid
