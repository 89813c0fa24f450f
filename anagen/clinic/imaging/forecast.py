"""The patient's model forecast and progress plot (matplotlib, rendered on the server)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from anagen import follicles

from .models import TargetSite
from .selectors import Measurement, outcome_series, session_days

FORECAST_MEMBERS = 300


def years_since_onset(target_site: TargetSite) -> float:
    assessment = target_site.patient.assessments.order_by("-assessed_at").first()
    if assessment and assessment.loss_duration_months:
        return max(0.5, assessment.loss_duration_months / 12)
    return 5.0


def site_forecast(*, target_site: TargetSite, series: list[Measurement] | None = None):
    """Calibrate the follicle model to this site's measurements and forecast 24 months."""
    series = outcome_series(target_site=target_site) if series is None else series
    if not series:
        return None
    calibration = follicles.calibrate(
        [
            {
                "day": m.day,
                "density_per_cm2": m.density_per_cm2,
                "mean_diameter_um": m.mean_diameter_um,
            }
            for m in series
        ],
        session_days=tuple(d for d in session_days(patient=target_site.patient) if d >= 0),
        zone=target_site.zone,
        years_since_onset=years_since_onset(target_site),
    )
    return follicles.forecast(
        calibration, horizon_days=730, members=FORECAST_MEMBERS, seed=target_site.pk
    )


def progress_png(*, target_site: TargetSite, with_forecast: bool = True) -> bytes:
    series = outcome_series(target_site=target_site)
    prediction = site_forecast(target_site=target_site, series=series) if with_forecast else None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.0), dpi=110)
    days = [m.day for m in series]
    ax1.plot(
        days,
        [m.density_per_cm2 for m in series],
        "o-",
        color="#0b5cad",
        label="measured, all hairs",
    )
    ax1.plot(
        days,
        [m.terminal_density_per_cm2 for m in series],
        "s--",
        color="#1e7b3c",
        label="measured, terminal",
    )
    ax2.plot(
        days,
        [m.mean_diameter_um or float("nan") for m in series],
        "o-",
        color="#0b5cad",
        label="measured",
    )
    if prediction is not None:
        data = prediction.to_dict()
        for key, colour, name in (
            ("with_further_sessions", "#9a5b00", "model: with further sessions"),
            ("no_further_sessions", "#7a7a7a", "model: no further sessions"),
        ):
            scenario = data["scenarios"][key]
            x = data["days"]
            for ax, metric in ((ax1, "density_per_cm2"), (ax2, "mean_diameter_um")):
                band = scenario[metric]
                ax.plot(x, band["median"], color=colour, lw=1.5, label=name)
                ax.fill_between(x, band["p05"], band["p95"], color=colour, alpha=0.15)
    for day in session_days(patient=target_site.patient):
        for ax in (ax1, ax2):
            ax.axvline(day, color="#b42318", lw=0.8, alpha=0.5)
    ax1.set(xlabel="days since first session", ylabel="hairs / cm²", title="Density")
    ax2.set(xlabel="days since first session", ylabel="µm", title="Mean shaft diameter")
    handles, labels = ax1.get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=4,
        fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, 0.04),
    )
    note = "Red lines: sessions."
    if prediction is not None:
        note = (
            "Model forecast, not a promise: median and 5–95 % band of a stochastic follicle model. "
            + note
        )
    fig.text(0.5, 0.005, note, ha="center", fontsize=7, color="#5b6675")
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()
