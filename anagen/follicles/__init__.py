"""Stochastic follicular automaton of the human scalp: simulate, calibrate, forecast.

A pure library (NumPy/SciPy, no Django) implementing the hair-cycle model of Halloy, Bernard,
Loussouarn & Goldbeter (PNAS 2000; J Theor Biol 2002) with androgenetic alopecia and a
**hypothetical** model of SVF/ADSC treatment sessions. Everything it returns is model output
and is labelled as such; a forecast is not a promise of results.

Main entry points
-----------------
simulate(n_follicles, years, seed, ...) -> TimeSeries
    Stochastic population time series (``anagen follicles simulate``).
mean_field(t_days, ...) -> TimeSeries
    Deterministic mean-field version of the same model.
calibrate(observations, *, session_days, zone, years_since_onset, ...) -> Calibration
    Fit a patient's AGA severity and treatment response to trichometry visits.
forecast(calibration, *, horizon_days=730, members=1000, ...) -> Forecast
    24-month ensemble forecast with and without further sessions (``Forecast.to_dict()``).
generate_cohort(seed, n_patients, ...) -> list[SyntheticPatient]
    Synthetic patients with the hair lists of their target site at each visit.
"""

from .cohort import DEFAULT_VISIT_DAYS, Hair, SyntheticPatient, VisitSnapshot, generate_cohort
from .forecast import FORECAST_LABEL, Calibration, Forecast, Visit, calibrate, forecast
from .meanfield import mean_field, steady_state_fractions
from .params import (
    MODEL_LABEL,
    ZONE_FACTORS,
    ZONES,
    AlopeciaParameters,
    CycleParameters,
    ModelParameters,
    TreatmentHypothesis,
)
from .stochastic import FollicleSimulator, TimeSeries, simulate

__all__ = [
    "DEFAULT_VISIT_DAYS",
    "FORECAST_LABEL",
    "MODEL_LABEL",
    "ZONES",
    "ZONE_FACTORS",
    "AlopeciaParameters",
    "Calibration",
    "CycleParameters",
    "FollicleSimulator",
    "Forecast",
    "Hair",
    "ModelParameters",
    "SyntheticPatient",
    "TimeSeries",
    "TreatmentHypothesis",
    "Visit",
    "VisitSnapshot",
    "calibrate",
    "forecast",
    "generate_cohort",
    "mean_field",
    "simulate",
    "steady_state_fractions",
]
