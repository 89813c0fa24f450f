"""Statistics on the clinic's outcome registry, with honest uncertainty.

Pure library (pandas, NumPy, SciPy, statsmodels, lifelines; never Django). Input is a tidy
outcome table: one row per patient and visit with ``patient_id``, ``visit_day`` (days since
the patient's baseline visit at day 0), one or more measure columns and optional covariates.

Modules
-------
table
    Reading and validating the tidy table.
windows
    Matching follow-up visits to protocol windows (missing visits kept as missing).
change
    Change from baseline per window: paired t CI, median/IQR, percent, responders (Wilson).
compare
    Two cohorts: Welch difference in means and Hedges' g with CIs.
mixed
    Linear mixed model over time with covariates (statsmodels MixedLM).
durability
    Kaplan-Meier time to loss of response; Cox hazard ratios (lifelines).
adverse
    Adverse-event rates by type and grade with Clopper-Pearson CIs.
proportions
    Wilson and Clopper-Pearson intervals.
synthetic
    Simulated cohorts with a known true effect.
closed_loop
    Closed-loop validation: follicle-model cohorts imaged as phantoms, counted by the
    trichometry engine, analysed here; coverage of the true mean change (``bench.evidence``).
cli
    ``anagen evidence summarize``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from anagen.evidence.adverse import AdverseEventRate, adverse_event_rates
    from anagen.evidence.change import (
        GroupSummary,
        MeanCI,
        ResponderRule,
        WindowSummary,
        paired_t_ci,
        summarize_change,
        summarize_groups,
    )
    from anagen.evidence.compare import (
        CohortComparison,
        compare_cohorts,
        compare_windows,
        hedges_g,
        welch_difference,
    )
    from anagen.evidence.durability import (
        DurabilityResult,
        HazardRatio,
        KaplanMeierResult,
        cox_hazard_ratios,
        durability,
        kaplan_meier,
        loss_of_response_times,
    )
    from anagen.evidence.errors import OutcomeTableError
    from anagen.evidence.mixed import FixedEffect, MixedModelResult, fit_mixed_model
    from anagen.evidence.proportions import clopper_pearson_ci, wilson_ci
    from anagen.evidence.synthetic import synthetic_cohort, true_mean_change
    from anagen.evidence.table import read_outcomes_csv, validate_outcomes
    from anagen.evidence.windows import DEFAULT_WINDOWS, default_tolerance, match_windows

# Imported on first use, so that ``anagen evidence summarize`` does not load statsmodels and
# lifelines (seconds) to print a table of means.
_LAZY = {
    "AdverseEventRate": "anagen.evidence.adverse",
    "CohortComparison": "anagen.evidence.compare",
    "DEFAULT_WINDOWS": "anagen.evidence.windows",
    "DurabilityResult": "anagen.evidence.durability",
    "FixedEffect": "anagen.evidence.mixed",
    "GroupSummary": "anagen.evidence.change",
    "HazardRatio": "anagen.evidence.durability",
    "KaplanMeierResult": "anagen.evidence.durability",
    "MeanCI": "anagen.evidence.change",
    "MixedModelResult": "anagen.evidence.mixed",
    "OutcomeTableError": "anagen.evidence.errors",
    "ResponderRule": "anagen.evidence.change",
    "WindowSummary": "anagen.evidence.change",
    "adverse_event_rates": "anagen.evidence.adverse",
    "clopper_pearson_ci": "anagen.evidence.proportions",
    "compare_cohorts": "anagen.evidence.compare",
    "compare_windows": "anagen.evidence.compare",
    "cox_hazard_ratios": "anagen.evidence.durability",
    "default_tolerance": "anagen.evidence.windows",
    "durability": "anagen.evidence.durability",
    "fit_mixed_model": "anagen.evidence.mixed",
    "hedges_g": "anagen.evidence.compare",
    "kaplan_meier": "anagen.evidence.durability",
    "loss_of_response_times": "anagen.evidence.durability",
    "match_windows": "anagen.evidence.windows",
    "paired_t_ci": "anagen.evidence.change",
    "read_outcomes_csv": "anagen.evidence.table",
    "summarize_change": "anagen.evidence.change",
    "summarize_groups": "anagen.evidence.change",
    "synthetic_cohort": "anagen.evidence.synthetic",
    "true_mean_change": "anagen.evidence.synthetic",
    "validate_outcomes": "anagen.evidence.table",
    "welch_difference": "anagen.evidence.compare",
    "wilson_ci": "anagen.evidence.proportions",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_WINDOWS",
    "AdverseEventRate",
    "CohortComparison",
    "DurabilityResult",
    "FixedEffect",
    "GroupSummary",
    "HazardRatio",
    "KaplanMeierResult",
    "MeanCI",
    "MixedModelResult",
    "OutcomeTableError",
    "ResponderRule",
    "WindowSummary",
    "adverse_event_rates",
    "clopper_pearson_ci",
    "compare_cohorts",
    "compare_windows",
    "cox_hazard_ratios",
    "default_tolerance",
    "durability",
    "fit_mixed_model",
    "hedges_g",
    "kaplan_meier",
    "loss_of_response_times",
    "match_windows",
    "paired_t_ci",
    "read_outcomes_csv",
    "summarize_change",
    "summarize_groups",
    "synthetic_cohort",
    "true_mean_change",
    "validate_outcomes",
    "welch_difference",
    "wilson_ci",
]
