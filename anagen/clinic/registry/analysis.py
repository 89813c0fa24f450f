"""The registry pages' statistics: the cohort's outcome frame through ``anagen.evidence``.

No database access here: the views fetch one outcome frame per cohort (``selectors``) and
everything else is pandas. The outcome table has one row per analysed image (a visit × target
site); the statistics need one value per patient and visit, so a patient's target sites are
averaged per visit first (or the cohort is narrowed to one zone).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Literal

import pandas as pd

from anagen.evidence.adverse import AdverseEventRate, adverse_event_rates
from anagen.evidence.change import ResponderRule, WindowSummary, summarize_change
from anagen.evidence.compare import CohortComparison, compare_windows
from anagen.evidence.errors import OutcomeTableError

from .measures import outcome_windows

#: The notice on every registry page, sheet and PDF, after its bold headline "Investigational
#: therapy; registry observations, not a controlled trial." (in the templates; said once).
INVESTIGATIONAL_NOTICE = (
    "Results vary between patients and are not a promise of any individual result."
)


@dataclass(frozen=True)
class Measure:
    """A measure the registry summarises.

    ``kind`` "change": change from the baseline visit; "score": the score itself at each
    window (the global assessment already compares with baseline; satisfaction has none).
    ``responder`` is None where no responder definition applies.
    """

    column: str
    label: str
    unit: str
    kind: Literal["change", "score"] = "change"
    responder: ResponderRule | None = None
    responder_text: str = ""


MEASURES: dict[str, Measure] = {
    m.column: m
    for m in (
        Measure(
            "density_per_cm2",
            "Hair density",
            "hairs/cm²",
            responder=ResponderRule(delta=10.0),
            responder_text="a gain of at least 10 hairs/cm²",
        ),
        Measure(
            "terminal_density_per_cm2",
            "Terminal hair density",
            "hairs/cm²",
            responder=ResponderRule(delta=10.0),
            responder_text="a gain of at least 10 terminal hairs/cm²",
        ),
        Measure(
            "vellus_density_per_cm2",
            "Vellus hair density",
            "hairs/cm²",
            responder=ResponderRule(delta=10.0),
            responder_text="a gain of at least 10 vellus hairs/cm²",
        ),
        Measure(
            "mean_diameter_um",
            "Mean shaft diameter",
            "µm",
            responder=ResponderRule(delta=5.0),
            responder_text="a gain of at least 5 µm",
        ),
        Measure(
            "cumulative_thickness_mm_per_cm2",
            "Cumulative hair thickness",
            "mm/cm²",
            responder=ResponderRule(delta=None, percent=10.0),
            responder_text="a gain of at least 10 %",
        ),
        Measure(
            "anagen_fraction",
            "Anagen fraction (phototrichogram)",
            "fraction",
            responder=ResponderRule(delta=0.05),
            responder_text="a gain of at least 0.05 (5 points of growing hairs)",
        ),
        Measure("pull_test_hairs", "Pull test (hairs out of about 60)", "hairs"),
        Measure(
            "satisfaction",
            "Patient's satisfaction (1-5)",
            "points",
            kind="score",
            responder=ResponderRule(delta=4.0),
            responder_text="satisfied or very satisfied (4 or 5)",
        ),
        Measure(
            "global_assessment",
            "Investigator's global assessment (−3 to +3)",
            "points",
            kind="score",
            responder=ResponderRule(delta=1.0),
            responder_text="an increase on the photographs (+1 or more)",
        ),
        Measure(
            "blinded_review_score",
            "Blinded photographic review (−3 to +3)",
            "points",
            kind="score",
            responder=ResponderRule(delta=1.0),
            responder_text="scored improved by blinded reviewers (+1 or more)",
        ),
    )
}
DEFAULT_MEASURE = "density_per_cm2"
#: Stands in for "no responder rule" when asking the library (its rate is not shown).
_ANY_RULE = ResponderRule(delta=0.0)


#: Measures whose change from baseline the hair-to-hair matching measures directly, and the
#: outcome column holding that change (``OutcomeRecord.matched_change_per_cm2``).
MATCHED_CHANGE: dict[str, str] = {
    "density_per_cm2": "matched_change_per_cm2",
    "terminal_density_per_cm2": "matched_terminal_change_per_cm2",
}


def frame_columns(measure: Measure) -> tuple[str, ...]:
    """The outcome columns the registry pages' statistics of ``measure`` read.

    Summaries, the plot's lines and comparisons need the patient, the visit day and the
    measure; completeness needs the protocol window; a measure with a matched change also
    needs the target site and that change.
    """
    columns: tuple[str, ...] = ("patient_id", "visit_day", "window_day", measure.column)
    if measure.column in MATCHED_CHANGE:
        columns += ("target_site_id", MATCHED_CHANGE[measure.column])
    return columns


def prefer_matched(frame: pd.DataFrame, measure: Measure) -> pd.Series:
    """The measure's values, with a matched change from baseline wherever one exists.

    A follow-up row whose image was matched hair to hair with its target site's baseline
    image takes ``site's baseline value + matched change``, so the change from baseline
    computed from these values is the matched change (the two independent counts' errors
    no longer add up); the row's own independent value stays in the table.

    Parameters
    ----------
    frame : pandas.DataFrame
        Outcome rows with ``measure.column`` and, when present, ``target_site_id`` and the
        matched-change column.
    measure : Measure

    Returns
    -------
    pandas.Series
        One value per row of ``frame`` (numeric; NaN where missing).
    """
    values = pd.to_numeric(frame[measure.column], errors="coerce")
    column = MATCHED_CHANGE.get(measure.column)
    if column is None or column not in frame.columns or "target_site_id" not in frame.columns:
        return values
    matched = pd.to_numeric(frame[column], errors="coerce")
    if not matched.notna().any():
        return values
    first = frame.assign(_v=values).sort_values("visit_day").groupby("target_site_id")["_v"].first()
    base = frame["target_site_id"].map(first)
    return values.where(matched.isna(), base + matched)


def per_visit(frame: pd.DataFrame, measure: Measure) -> pd.DataFrame:
    """One value per patient and visit day: the mean over the visit's target sites.

    For a "score" measure every patient with a score also gets a day-0 row of 0, so the
    library's change from baseline is the score itself.
    """
    if frame.empty or measure.column not in frame.columns:
        return pd.DataFrame(columns=["patient_id", "visit_day", measure.column])
    values = frame[["patient_id", "visit_day", measure.column]].copy()
    values[measure.column] = prefer_matched(frame, measure)
    values = values.dropna(subset=[measure.column])
    table: pd.DataFrame = values.groupby(["patient_id", "visit_day"], as_index=False)[
        [measure.column]
    ].mean()
    if measure.kind == "score":
        table = table[table["visit_day"] > 0]
        zero = pd.DataFrame(
            {"patient_id": table["patient_id"].unique(), "visit_day": 0, measure.column: 0.0}
        )
        table = pd.concat([zero, table], ignore_index=True)
    return table


def summarize(
    frame: pd.DataFrame, measure: Measure, windows: tuple[int, ...] | None = None
) -> list[WindowSummary]:
    """The library's window summaries of ``measure`` (empty when no patient has a baseline)."""
    table = per_visit(frame, measure)
    try:
        return summarize_change(
            table,
            measure.column,
            windows=windows or outcome_windows(),
            rule=measure.responder or _ANY_RULE,
        )
    except OutcomeTableError:
        return []


def spaghetti(frame: pd.DataFrame, measure: Measure) -> pd.DataFrame:
    """Each patient's change from baseline over all visits (for the faint lines of the plot).

    Returns
    -------
    pandas.DataFrame
        ``patient_id``, ``visit_day`` (≥ 0) and ``change``, sorted by patient and day;
        only patients with a baseline. One table, not a frame per patient: for the whole
        registry (10,000 patients) building those took seconds.
    """
    table = per_visit(frame, measure)
    base = table.loc[table["visit_day"] == 0, ["patient_id", measure.column]]
    rows = table[table["visit_day"] >= 0].merge(
        base.rename(columns={measure.column: "_baseline"}), on="patient_id"
    )
    lines = pd.DataFrame(
        {
            "patient_id": rows["patient_id"],
            "visit_day": rows["visit_day"],
            "change": rows[measure.column] - rows["_baseline"],
        }
    )
    return lines.sort_values(["patient_id", "visit_day"], kind="stable").reset_index(drop=True)


def patients(frame: pd.DataFrame) -> list[int]:
    """The cohort's patient ids (as the database has them)."""
    if frame.empty:
        return []
    return sorted({int(p) for p in frame["patient_id"]})


def compare(
    frame_a: pd.DataFrame,
    frame_b: pd.DataFrame,
    measure: Measure,
    windows: tuple[int, ...] | None = None,
) -> dict[float, CohortComparison | None]:
    """Cohort A minus cohort B at each window (None where either has fewer than 2 patients).

    A patient in both cohorts counts in each (their ids are kept apart by a prefix).
    """
    a = per_visit(frame_a, measure).assign(cohort="A")
    b = per_visit(frame_b, measure).assign(cohort="B")
    a["patient_id"] = "A:" + a["patient_id"].astype(str)
    b["patient_id"] = "B:" + b["patient_id"].astype(str)
    table = pd.concat([a, b], ignore_index=True)
    days = windows or outcome_windows()
    empty: dict[float, CohortComparison | None] = {float(d): None for d in days}
    try:
        return compare_windows(
            table, measure.column, group_by="cohort", group_a="A", group_b="B", windows=days
        )
    except OutcomeTableError:
        return empty


@dataclass(frozen=True)
class Completeness:
    """Follow-up visits of a window: due so far, measured, missed, still open."""

    window_day: int
    due: int
    done: int
    missed: int
    open: int

    @property
    def done_percent(self) -> float:
        return 100.0 * self.done / self.due if self.due else math.nan


def completeness(
    scheduled: pd.DataFrame, frame: pd.DataFrame, *, today: date
) -> list[Completeness]:
    """Follow-up visits due, done and missed per window.

    ``scheduled``: the cohort's scheduled follow-ups (``patient_id``, ``window_day``,
    ``due_on``, ``window_end``, ``completed``). A visit is *due* once its day has come, *done*
    when it was marked completed or the patient has a measurement in that window, *missed*
    when its window closed without either, and *open* while its window still runs.
    """
    days = list(outcome_windows())
    if scheduled.empty:
        return [Completeness(day, 0, 0, 0, 0) for day in days]
    keys = ["patient_id", "window_day"]
    visits = scheduled[[*keys, "due_on", "window_end", "completed"]].astype(
        {"patient_id": "int64", "window_day": "int64"}
    )
    measured = (
        frame.loc[frame["window_day"].notna(), keys].astype("int64").drop_duplicates()
        if not frame.empty
        else pd.DataFrame(columns=keys, dtype="int64")
    )
    visits = visits.merge(measured.assign(measured=True), on=keys, how="left")
    due = visits["due_on"] <= today
    done = due & (visits["completed"].astype(bool) | visits["measured"].notna())
    missed = due & ~done & (visits["window_end"] < today)
    counts = (
        pd.DataFrame(
            {
                "window_day": visits["window_day"],
                "due": due,
                "done": done,
                "missed": missed,
                "open": due & ~done & ~missed,
            }
        )
        .groupby("window_day")
        .sum()
    )
    out = []
    for day in days:
        row = counts.loc[day] if day in counts.index else None
        if row is None:
            out.append(Completeness(day, 0, 0, 0, 0))
        else:
            out.append(
                Completeness(
                    day, int(row["due"]), int(row["done"]), int(row["missed"]), int(row["open"])
                )
            )
    return out


def event_rates(
    events: pd.DataFrame, *, n_patients: int, n_sessions: int
) -> list[AdverseEventRate]:
    """Adverse-event rates by type and grade with Clopper-Pearson CIs (none without patients)."""
    if n_patients == 0:
        return []
    if events.empty:
        events = pd.DataFrame(columns=["patient_id", "type", "grade", "session_id"])
    return adverse_event_rates(events, n_patients=n_patients, n_sessions=n_sessions)


# --- for the pages and the PDF: the numbers as the clinic reads them -------------------------


def fmt(value: float | None, digits: int = 1, *, percent: bool = False) -> str:
    """A number for a table cell; "—" for a missing one (never "nan")."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if percent:
        return f"{100.0 * value:.0f} %"
    return f"{value:.{digits}f}".replace("-", "−")


def interval(low: float, high: float, digits: int = 1, *, percent: bool = False) -> str:
    if math.isnan(low) or math.isnan(high):
        return "—"
    return f"{fmt(low, digits, percent=percent)} to {fmt(high, digits, percent=percent)}"


def summary_rows(summaries: list[WindowSummary], measure: Measure) -> list[dict[str, str]]:
    """One row of text per window for the statistics table."""
    rows = []
    for s in summaries:
        rows.append(
            {
                "window": f"Day {s.window_day:g} (±{s.tolerance_days:g})",
                "n": str(s.n),
                "n_missing": str(s.n_missing),
                "mean": fmt(s.mean_change),
                "ci": interval(s.ci_low, s.ci_high),
                "median": fmt(s.median_change),
                "iqr": interval(s.q1_change, s.q3_change),
                "percent": (
                    "—"
                    if measure.kind == "score" or math.isnan(s.mean_percent_change)
                    else f"{fmt(s.mean_percent_change, 0)} %"
                ),
                "responders": (
                    f"{s.n_responders}/{s.n} ({fmt(s.responder_rate, percent=True)})"
                    if measure.responder is not None and s.n
                    else "—"
                ),
                "responder_ci": (
                    interval(s.responder_ci_low, s.responder_ci_high, percent=True)
                    if measure.responder is not None
                    else "—"
                ),
            }
        )
    return rows


def comparison_rows(
    comparisons: dict[float, CohortComparison | None],
) -> list[dict[str, str]]:
    rows = []
    for day, c in comparisons.items():
        if c is None:
            rows.append({"window": f"Day {day:g}", "too_few": "yes"})
            continue
        rows.append(
            {
                "window": f"Day {day:g}",
                "n": f"{c.n_a} / {c.n_b}",
                "means": f"{fmt(c.mean_a)} / {fmt(c.mean_b)}",
                "difference": fmt(c.difference),
                "ci": interval(c.ci_low, c.ci_high),
                "g": fmt(c.hedges_g, 2),
                "g_ci": interval(c.g_ci_low, c.g_ci_high, 2),
            }
        )
    return rows


AE_TYPE_LABELS = {
    "any": "Any adverse event",
    "bruising": "Bruising",
    "pain": "Pain",
    "swelling": "Swelling",
    "erythema": "Erythema",
    "infection": "Infection",
    "scar": "Scar",
    "other": "Other",
}


def event_rows(rates: list[AdverseEventRate]) -> list[dict[str, str]]:
    rows = []
    for r in rates:
        rows.append(
            {
                "type": AE_TYPE_LABELS.get(r.type, r.type.capitalize()),
                "grade": f"Grade {r.grade}" if r.grade else "All grades",
                "events": str(r.n_events),
                "patients": f"{r.patients_with_event}/{r.n_patients}",
                "patient_rate": fmt(r.patient_rate, percent=True),
                "patient_ci": interval(r.patient_ci_low, r.patient_ci_high, percent=True),
                "sessions": f"{r.sessions_with_event}/{r.n_sessions}" if r.n_sessions else "—",
                "session_rate": fmt(r.session_rate, percent=True),
                "session_ci": interval(r.session_ci_low, r.session_ci_high, percent=True),
                "is_grade": "yes" if r.grade else "",
            }
        )
    return rows
