"""The site's model forecast and progress plot, computed by the job (never per request).

Matplotlib renders on the server; the figure is kept apart from PNG encoding so its curves
can be inspected in tests.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from anagen import follicles
from anagen.evidence.windows import default_tolerance

from .selectors import ForecastInputs

FORECAST_MEMBERS = 300
HORIZON_DAYS = 730

SESSION_COLOUR = "#b42318"
NOTE = (
    "Model forecast, not a promise: median and 5–95 % band of a stochastic follicle model, "
    "its diameter calibrated to this patient's baseline."
)


def site_forecast(inputs: ForecastInputs) -> dict[str, Any] | None:
    """Calibrate the follicle model to the site's measurements and forecast 24 months.

    Further sessions are the ones the open plan still expects (none: both scenarios coincide
    and only "no further sessions" is shown). The diameter is anchored to the patient's own
    baseline diameter (``follicles.calibrate(anchor_diameter=True)``).
    """
    if not inputs.points:
        return None
    calibration = follicles.calibrate(
        [
            {
                "day": p.day,
                "density_per_cm2": p.density_per_cm2,
                "mean_diameter_um": p.mean_diameter_um,
            }
            for p in inputs.points
        ],
        session_days=inputs.session_days,
        zone=inputs.zone,
        years_since_onset=inputs.years_since_onset,
        anchor_diameter=True,
    )
    prediction = follicles.forecast(
        calibration,
        horizon_days=HORIZON_DAYS,
        further_sessions=[d for d in inputs.further_session_days if d <= HORIZON_DAYS],
        members=FORECAST_MEMBERS,
        seed=inputs.site_id,
    )
    return prediction.to_dict()


def has_further_sessions(forecast: dict[str, Any] | None) -> bool:
    """Whether the forecast's "with further sessions" scenario adds any session."""
    if not forecast:
        return False
    scenarios = forecast["scenarios"]
    return len(scenarios["with_further_sessions"]["session_days"]) > len(
        scenarios["no_further_sessions"]["session_days"]
    )


def progress_figure(inputs: ForecastInputs, forecast: dict[str, Any] | None) -> Figure:
    """Density (all and terminal), mean diameter and, when measured, the anagen fraction over
    days since baseline, with the protocol's visit windows shaded and the sessions marked."""
    points = inputs.points
    days = [p.day for p in points]
    fractions = [p.anagen_fraction for p in points]
    with_fraction = any(f is not None for f in fractions)
    panels = 3 if with_fraction else 2
    fig, axes = plt.subplots(1, panels, figsize=(5.0 * panels, 4.0), dpi=100)
    ax1, ax2 = axes[0], axes[1]
    ax1.plot(
        days,
        [p.density_per_cm2 for p in points],
        "o-",
        color="#0b5cad",
        label="measured, all hairs",
    )
    ax1.plot(
        days,
        [p.terminal_density_per_cm2 for p in points],
        "s--",
        color="#1e7b3c",
        label=f"measured, terminal (≥ {inputs.terminal_min_um:g} µm)",
    )
    ax2.plot(
        days,
        [float("nan") if p.mean_diameter_um is None else p.mean_diameter_um for p in points],
        "o-",
        color="#0b5cad",
        label="measured",
    )
    if with_fraction:
        axes[2].plot(
            days,
            [float("nan") if f is None else 100 * f for f in fractions],
            "o-",
            color="#6a3d9a",
            label="measured anagen fraction",
        )
        axes[2].set(xlabel="days since baseline", ylabel="%", title="Anagen fraction")
        axes[2].set_ylim(0, 100)
    if forecast is not None:
        scenarios = [("no_further_sessions", "#7a7a7a", "model: no further sessions")]
        if has_further_sessions(forecast):
            scenarios.insert(
                0, ("with_further_sessions", "#9a5b00", "model: with further sessions")
            )
        for key, colour, name in scenarios:
            scenario = forecast["scenarios"][key]
            x = forecast["days"]
            for ax, metric in ((ax1, "density_per_cm2"), (ax2, "mean_diameter_um")):
                band = scenario[metric]
                ax.plot(x, band["median"], color=colour, lw=1.5, label=name)
                ax.fill_between(x, band["p05"], band["p95"], color=colour, alpha=0.15)
    last = max([*days, *inputs.session_days, 0])
    right = HORIZON_DAYS if forecast is not None else max(last + 30, 100)
    for ax in axes:
        for window in inputs.windows:
            if window <= right:
                tol = default_tolerance(window)
                ax.axvspan(window - tol, window + tol, color="#0b5cad", alpha=0.05, lw=0)
        for day in inputs.session_days:
            ax.axvline(day, color=SESSION_COLOUR, lw=0.8, alpha=0.5)
        ax.plot(
            list(inputs.session_days),
            [0.0] * len(inputs.session_days),
            marker="^",
            ls="none",
            color=SESSION_COLOUR,
            transform=ax.get_xaxis_transform(),
            clip_on=False,
            label="session",
            markersize=8,
        )
        ax.set_xlim(-10, right + 10)
    ax1.set(xlabel="days since baseline", ylabel="hairs / cm²", title="Density")
    ax2.set(xlabel="days since baseline", ylabel="µm", title="Mean shaft diameter")
    handles, labels = ax1.get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=3,
        fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, 0.075),
    )
    note = "Shaded: the protocol's visit windows (days 14–365). Red lines and ▲: sessions."
    if forecast is not None:
        note = NOTE + " " + note
    # Wrapped to the figure's width: on one line the forecast note ran off both edges.
    fig.text(0.5, 0.008, note, ha="center", va="bottom", fontsize=7, color="#5b6675", wrap=True)
    fig.tight_layout(rect=(0, 0.17, 1, 1))
    return fig


def progress_png(inputs: ForecastInputs, forecast: dict[str, Any] | None) -> bytes:
    fig = progress_figure(inputs, forecast)
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png")
    finally:
        plt.close(fig)
    return buffer.getvalue()
