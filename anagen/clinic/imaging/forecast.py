"""The patient's model forecast and progress plot (matplotlib, rendered on the server)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from anagen import follicles

from .models import TargetSite
from .selectors import Measurement, further_session_days, outcome_series, session_days

FORECAST_MEMBERS = 300
HORIZON_DAYS = 730


def years_since_onset(target_site: TargetSite) -> float:
    assessment = target_site.patient.assessments.order_by("-assessed_at").first()
    if assessment and assessment.loss_duration_months:
        return max(0.5, assessment.loss_duration_months / 12)
    return 5.0


def site_forecast(*, target_site: TargetSite, series: list[Measurement] | None = None):
    """Calibrate the follicle model to this site's measurements and forecast 24 months.

    Further sessions are the ones the open plan still expects (none: both scenarios coincide
    and only "no further sessions" is shown).
    """
    series = outcome_series(target_site=target_site) if series is None else series
    if not series:
        return None
    patient = target_site.patient
    calibration = follicles.calibrate(
        [
            {
                "day": m.day,
                "density_per_cm2": m.density_per_cm2,
                "mean_diameter_um": m.mean_diameter_um,
            }
            for m in series
        ],
        session_days=tuple(session_days(patient=patient)),
        zone=target_site.zone,
        years_since_onset=years_since_onset(target_site),
    )
    return follicles.forecast(
        calibration,
        horizon_days=HORIZON_DAYS,
        further_sessions=[d for d in further_session_days(patient=patient) if d <= HORIZON_DAYS],
        members=FORECAST_MEMBERS,
        seed=target_site.pk,
    )


def has_further_sessions(prediction) -> bool:
    """Whether the forecast's "with further sessions" scenario adds any session."""
    scenarios = prediction.scenarios
    return len(scenarios["with_further_sessions"]["session_days"]) > len(
        scenarios["no_further_sessions"]["session_days"]
    )


def progress_png(*, target_site: TargetSite, with_forecast: bool = True) -> bytes:
    fig = progress_figure(target_site=target_site, with_forecast=with_forecast)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def progress_figure(*, target_site: TargetSite, with_forecast: bool = True):
    """The progress figure (kept apart from PNG encoding so its curves can be inspected)."""
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
        scenarios = [("no_further_sessions", "#7a7a7a", "model: no further sessions")]
        if has_further_sessions(prediction):
            scenarios.insert(
                0, ("with_further_sessions", "#9a5b00", "model: with further sessions")
            )
        for key, colour, name in scenarios:
            scenario = data["scenarios"][key]
            x = data["days"]
            for ax, metric in ((ax1, "density_per_cm2"), (ax2, "mean_diameter_um")):
                band = scenario[metric]
                ax.plot(x, band["median"], color=colour, lw=1.5, label=name)
                ax.fill_between(x, band["p05"], band["p95"], color=colour, alpha=0.15)
    for day in session_days(patient=target_site.patient):
        for ax in (ax1, ax2):
            ax.axvline(day, color="#b42318", lw=0.8, alpha=0.5)
    ax1.set(xlabel="days since baseline", ylabel="hairs / cm²", title="Density")
    ax2.set(xlabel="days since baseline", ylabel="µm", title="Mean shaft diameter")
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
    return fig
