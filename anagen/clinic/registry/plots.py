"""Registry plots (matplotlib's object API: no global pyplot state, safe in threaded servers)."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from anagen.evidence.change import WindowSummary
from anagen.evidence.compare import CohortComparison

from .analysis import Measure

BLUE = "#0b5cad"
ORANGE = "#9a5b00"
GREY = "#7a7a7a"


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _ylabel(measure: Measure) -> str:
    what = "score" if measure.kind == "score" else "change from baseline"
    return f"{what} ({measure.unit})"


def _error_bars(
    ax: object, summaries: list[WindowSummary], colour: str, label: str, shift: float = 0.0
) -> None:
    shown = [s for s in summaries if s.n > 0 and not math.isnan(s.mean_change)]
    if not shown:
        return
    x = [s.window_day + shift for s in shown]
    y = [s.mean_change for s in shown]
    low = [0.0 if math.isnan(s.ci_low) else s.mean_change - s.ci_low for s in shown]
    high = [0.0 if math.isnan(s.ci_high) else s.ci_high - s.mean_change for s in shown]
    ax.errorbar(  # type: ignore[attr-defined]
        x, y, yerr=[low, high], fmt="o-", color=colour, capsize=4, lw=1.8, label=label, zorder=3
    )


#: Most patients' courses drawn under the mean: beyond a thousand faint lines the picture
#: does not change, while rasterising 10,000 of them took half a second.
MAX_COURSES = 1000


def _some_courses(lines: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """At most ``MAX_COURSES`` patients' lines (a fixed random choice, so the picture of one
    cohort does not change between drawings), with how many are drawn of how many."""
    ids = lines["patient_id"].unique() if not lines.empty else np.array([])
    if len(ids) <= MAX_COURSES:
        return lines, len(ids), len(ids)
    chosen = np.random.default_rng(0).choice(ids, size=MAX_COURSES, replace=False)
    return lines[lines["patient_id"].isin(chosen)], MAX_COURSES, len(ids)


def cohort_png(summaries: list[WindowSummary], lines: pd.DataFrame, measure: Measure) -> bytes:
    """Mean change with its 95 % CI per window, over each patient's own course (faint).

    ``lines``: ``analysis.spaghetti``'s table (``patient_id``, ``visit_day``, ``change``).
    """
    fig = Figure(figsize=(8, 4.2), dpi=110)
    ax = fig.add_subplot()
    lines, n_drawn, n_patients = _some_courses(lines)
    if not lines.empty:
        # One collection of all patients' lines: an artist per line took seconds per thousand.
        ids = lines["patient_id"].to_numpy()
        points = np.column_stack(
            [lines["visit_day"].to_numpy(dtype=float), lines["change"].to_numpy(dtype=float)]
        )
        segments = np.split(points, np.flatnonzero(ids[1:] != ids[:-1]) + 1)
        ax.add_collection(
            LineCollection(segments, colors=GREY, alpha=0.18, linewidths=0.7, zorder=1)
        )
        ax.autoscale_view()
    ax.axhline(0, color="#333333", lw=0.8)
    _error_bars(ax, summaries, BLUE, "mean change, 95 % CI")
    ax.set(xlabel="days since baseline", ylabel=_ylabel(measure), title=measure.label)
    if not summaries or all(s.n == 0 for s in summaries):
        ax.text(
            0.5,
            0.5,
            "No follow-up measurements in this cohort",
            ha="center",
            transform=ax.transAxes,
            color=GREY,
        )
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    fig.text(
        0.5,
        0.01,
        (
            "Grey: each patient's own course"
            if n_drawn == n_patients
            else f"Grey: the courses of {n_drawn:,} of the {n_patients:,} patients, drawn at random"
        )
        + ". Registry observations, not a controlled trial.",
        ha="center",
        fontsize=7,
        color="#5b6675",
    )
    # Fixed margins: tight_layout draws the whole figure once more to measure it.
    fig.subplots_adjust(left=0.1, right=0.98, top=0.92, bottom=0.17)
    return _png(fig)


def compare_png(
    a: list[WindowSummary],
    b: list[WindowSummary],
    comparisons: dict[float, CohortComparison | None],
    measure: Measure,
) -> bytes:
    """Both cohorts' mean change per window (left) and the difference A − B with its CI."""
    fig = Figure(figsize=(10, 4.2), dpi=110)
    ax1, ax2 = fig.subplots(1, 2)
    ax1.axhline(0, color="#333333", lw=0.8)
    _error_bars(ax1, a, BLUE, "cohort A", shift=-2)
    _error_bars(ax1, b, ORANGE, "cohort B", shift=2)
    ax1.set(xlabel="days since baseline", ylabel=_ylabel(measure), title=measure.label)
    if ax1.get_legend_handles_labels()[0]:
        ax1.legend(loc="upper left", fontsize=8, frameon=False)
    shown = [(day, c) for day, c in comparisons.items() if c is not None]
    ax2.axhline(0, color="#333333", lw=0.8)
    if shown:
        ax2.errorbar(
            [d for d, _ in shown],
            [c.difference for _, c in shown],
            yerr=[
                [c.difference - c.ci_low for _, c in shown],
                [c.ci_high - c.difference for _, c in shown],
            ],
            fmt="o",
            color="#1e7b3c",
            capsize=4,
        )
    else:
        ax2.text(
            0.5,
            0.5,
            "Too few patients to compare",
            ha="center",
            transform=ax2.transAxes,
            color=GREY,
        )
    ax2.set(
        xlabel="days since baseline",
        ylabel=f"A − B ({measure.unit})",
        title="Difference, 95 % CI (Welch)",
    )
    fig.tight_layout()
    return _png(fig)
