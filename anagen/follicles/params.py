"""Parameters of the follicular automaton, with their sources.

Every number used by :mod:`anagen.follicles` lives in one of the frozen dataclasses below, each
field documented with where it comes from. Three kinds of source are used and labelled as such:

``[H2000]``
    Halloy J, Bernard BA, Loussouarn G, Goldbeter A. *Modeling the dynamics of human hair cycles
    by a follicular automaton.* PNAS 2000;97(15):8328-8333 (structure of the model: independent
    follicles cycling anagen -> telogen -> latency -> anagen, phase durations drawn from lognormal
    distributions characterised by a mean and a standard deviation; alopecia as a shortening of
    anagen, a lengthening of latency and death/miniaturization after a critical number of cycles).
``[H2002]``
    Halloy J, Bernard BA, Loussouarn G, Goldbeter A. *The follicular automaton model: effect of
    stochasticity and of synchronization of hair cycles.* J Theor Biol 2002;214(3):469-479
    (deterministic version; stochastic fractions converge to it as the number of follicles grows).
``[C1994]``
    Courtois M, Loussouarn G, Hourseau C, Grollier JF. *Hair cycle and alopecia.* Skin Pharmacol
    1994;7:84-89 (the 14-15 year phototrichogram study behind [H2000]: in alopecia anagen shortens
    in a growing proportion of hairs, diameter declines in parallel, latency lengthens).
``[R2000]``
    Rebora A, Guarrera M. *Kenogen. A new phase of the hair cycle?* Dermatology 2002;205:108-110,
    and Guarrera & Rebora, *Kenogen in female androgenetic alopecia*, Dermatology 2005:
    kenogen (latency) lasts 1-5 months, longer and more frequent in AGA.
``[PHYS]``
    Textbook physiology, used where the papers' tables could not be retrieved: scalp anagen
    2-7 years (3-5 years, Wolfram J Am Acad Dermatol 2003;48:S106), telogen ~3 months (2-4),
    85-90 % of hairs in anagen, 100,000-150,000 follicles, 40-100 hairs shed a day,
    terminal shaft 60-90 um, vellus <= 30-40 um, anagen growth ~0.35 mm/day.
``[HYP]``
    A modelling assumption of Anagen, chosen to give plausible behaviour. Not taken from data.

.. note::
   The numerical values of the lognormal means and standard deviations in [H2000] (their
   Table 1 / Fig. 2 legends) could not be retrieved from the material available while this
   module was written. The defaults below are therefore physiological values ([PHYS]) chosen
   inside the ranges above so that the normal-scalp steady state has 85-90 % of hairs in
   anagen and 40-100 hairs shed per day per 100,000 follicles; they are flagged as such.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, overload

import numpy as np
import numpy.typing as npt

#: Scalp zones and the factor multiplying a patient's AGA severity in each zone [HYP], following
#: the Norwood-Hamilton / Ludwig patterns: frontal, mid-scalp and vertex affected, temporal
#: moderately, occipital spared (the donor area of hair transplantation).
ZONE_FACTORS: dict[str, float] = {
    "frontal": 1.0,
    "mid_scalp": 1.0,
    "vertex": 1.0,
    "temporal": 0.5,
    "occipital": 0.0,
}

#: Zones accepted by every public function.
ZONES: tuple[str, ...] = tuple(ZONE_FACTORS)

#: Label attached to every output that involves the treatment hypothesis.
MODEL_LABEL = (
    "MODEL OUTPUT - a stochastic follicular-automaton model with a hypothetical treatment "
    "effect; not a measurement, not a promise of results."
)


def lognormal_mu_sigma(mean: float, sd: float) -> tuple[float, float]:
    """Return ``(mu, sigma)`` of the underlying normal for a lognormal with ``mean`` and ``sd``.

    Parameters
    ----------
    mean, sd : float
        Mean and standard deviation of the lognormal variable (``mean > 0``, ``sd > 0``).

    Returns
    -------
    mu, sigma : float
        Parameters such that ``exp(N(mu, sigma**2))`` has the requested mean and SD.
    """
    sigma2 = math.log1p((sd / mean) ** 2)
    return math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2)


@dataclass(frozen=True)
class CycleParameters:
    """Phase durations of a normal (non-alopecic) scalp follicle, in days.

    Each phase duration is drawn afresh, per follicle and per cycle, from a lognormal
    distribution with the given mean and standard deviation [H2000]. Catagen (2-3 weeks) is
    folded into telogen as in [H2000].

    Attributes
    ----------
    anagen_mean_days : float
        1000 d (2.7 years) [PHYS: 2-7 years; 3-5 years]. Chosen with ``telogen_mean_days`` so
        that the anagen share of hairs present is 1000 / 1120 = 89 %.
    anagen_sd_days : float
        400 d (coefficient of variation 0.4) [PHYS/HYP; H2000 report wide, right-skewed anagen
        distributions].
    telogen_mean_days : float
        120 d [PHYS: telogen 2-4 months, ~3 months plus 2-3 weeks of catagen].
    telogen_sd_days : float
        40 d [HYP].
    latency_mean_days : float
        40 d [R2000: kenogen 1-5 months when present; C1994: present in only part of the cycles
        of normal scalps, so the mean over all cycles is short].
    latency_sd_days : float
        30 d [HYP].
    """

    anagen_mean_days: float = 1000.0
    anagen_sd_days: float = 400.0
    telogen_mean_days: float = 120.0
    telogen_sd_days: float = 40.0
    latency_mean_days: float = 40.0
    latency_sd_days: float = 30.0

    def cycle_mean_days(self) -> float:
        """Mean length of one full cycle (anagen + telogen + latency), days."""
        return self.anagen_mean_days + self.telogen_mean_days + self.latency_mean_days


@dataclass(frozen=True)
class AlopeciaParameters:
    """Androgenetic alopecia (AGA) as a cycle-by-cycle process [H2000, C1994].

    Each follicle carries a *miniaturization stage* ``k`` (0 = healthy). After the onset of AGA,
    at every new anagen the stage advances by one with probability ``severity x zone factor``
    (the patient's AGA severity in that zone, 0-1). The stage sets the phase durations and the
    shaft diameter of the hair grown in that cycle; a follicle that would reach
    ``critical_stage`` dies (stops cycling; counts as empty) [H2000: "follicles die or
    miniaturize after going through a critical number of successive cycles"].

    Attributes
    ----------
    anagen_shrink_per_stage : float
        0.25: mean anagen at stage k is ``floor + (mean0 - floor) * (1 - 0.25)**k`` [HYP, shape
        from C1994: anagen shortens progressively].
    anagen_floor_days : float
        90 d: anagen of a vellus-like follicle [PHYS: body/vellus hair anagen of weeks-months].
    latency_growth_per_stage : float
        0.6: mean latency at stage k is ``latency0 * (1 + 0.6 k)`` [HYP, C1994/R2000: latency
        lengthens in AGA].
    latency_max_days : float
        365 d cap on the mean latency [HYP; R2000 observed up to 5 months in single cycles].
    diameter_shrink_per_stage : float
        0.2: shaft diameter at stage k is ``vellus + (d0 - vellus) * (1 - 0.2)**k`` [HYP; C1994:
        diameter declines in parallel with anagen].
    critical_stage : int
        12: a follicle reaching this stage dies [HYP, following H2000's critical number of cycles].
    terminal_diameter_mean_um, terminal_diameter_sd_um : float
        75 +/- 10 um: healthy terminal scalp hair [PHYS: 60-90 um].
    vellus_diameter_um : float
        25 um: asymptotic diameter of a fully miniaturized hair [PHYS: vellus <= 30 um].
    diameter_jitter_cv : float
        0.05: cycle-to-cycle variation of one follicle's diameter [HYP].
    """

    anagen_shrink_per_stage: float = 0.25
    anagen_floor_days: float = 90.0
    latency_growth_per_stage: float = 0.6
    latency_max_days: float = 365.0
    diameter_shrink_per_stage: float = 0.2
    critical_stage: int = 12
    terminal_diameter_mean_um: float = 75.0
    terminal_diameter_sd_um: float = 10.0
    vellus_diameter_um: float = 25.0
    diameter_jitter_cv: float = 0.05


@dataclass(frozen=True)
class TreatmentHypothesis:
    """The **hypothesised** effect of one SVF/ADSC injection session. A model, not evidence.

    A session at day ``s`` creates an effect ``E(t) = sum_s 2**(-(t - s) / half_life)`` for
    ``t >= s``. Scaled by the patient's *response* ``r`` (0 = no effect, 1 = typical), it

    1. adds a hazard ``r * latency_to_anagen_per_day * E(t)`` of leaving latency for a new anagen
       (re-entry of kenogen follicles, the mechanism regrowth depends on - Rushton et al.,
       Exp Dermatol 2016, "initiation of anagen in kenogen follicles");
    2. adds a hazard ``r * telogen_to_anagen_per_day * E(t)`` of a telogen follicle starting a
       new anagen (the club hair is shed when the new hair starts);
    3. at each session, lengthens the remaining anagen of every growing hair by the factor
       ``1 + r * anagen_extension``;
    4. at each new anagen, reverses miniaturization by one stage with probability
       ``min(1, r * reversal_per_anagen * E(t))``.

    All four numbers are [HYP]; they are set so that a typical responder (r = 1) with sessions
    every ~2 months gains on the order of +10-20 hairs/cm2 over 6-12 months, the size of effect
    reported in trials (Kuka 2020 STYLE NH III subgroup +16.6/cm2; 2024 meta-analysis +14.9/cm2).

    Attributes
    ----------
    half_life_days : float
        60 d.
    latency_to_anagen_per_day : float
        1/30 per day at E = 1.
    telogen_to_anagen_per_day : float
        1/120 per day at E = 1.
    anagen_extension : float
        0.15 (15 % longer remaining anagen per session at r = 1).
    reversal_per_anagen : float
        0.5 at E = 1.
    """

    half_life_days: float = 60.0
    latency_to_anagen_per_day: float = 1.0 / 30.0
    telogen_to_anagen_per_day: float = 1.0 / 120.0
    anagen_extension: float = 0.15
    reversal_per_anagen: float = 0.5

    @property
    def decay_per_day(self) -> float:
        """Exponential decay rate of the effect, ``ln 2 / half_life_days``."""
        return math.log(2.0) / self.half_life_days


@dataclass(frozen=True)
class ModelParameters:
    """All parameters of the follicle model.

    Attributes
    ----------
    cycle : CycleParameters
        Normal hair cycle.
    alopecia : AlopeciaParameters
        AGA progression.
    treatment : TreatmentHypothesis
        Hypothesised treatment effect (a model).
    follicles_per_cm2 : float
        200 [PHYS: 100,000-150,000 follicles on ~600-700 cm2 of scalp; phototrichogram densities
        of ~150-250 hairs/cm2 in unaffected adult scalp].
    vellus_threshold_um : float
        40 um: hairs thicker than this are *terminal* (DESIGN.md: vellus <= 30 or <= 40 um,
        configurable).
    growth_mm_per_day : float
        0.35 mm/day anagen shaft growth [PHYS; DESIGN.md ~0.3 mm/day].
    """

    cycle: CycleParameters = field(default_factory=CycleParameters)
    alopecia: AlopeciaParameters = field(default_factory=AlopeciaParameters)
    treatment: TreatmentHypothesis = field(default_factory=TreatmentHypothesis)
    follicles_per_cm2: float = 200.0
    vellus_threshold_um: float = 40.0
    growth_mm_per_day: float = 0.35

    def to_dict(self) -> dict[str, Any]:
        """Return all parameters as a nested plain dictionary."""
        return asdict(self)


def zone_factor(zone: str) -> float:
    """Return the AGA severity factor of a scalp ``zone``.

    Raises
    ------
    ValueError
        If ``zone`` is not one of :data:`ZONES`.
    """
    try:
        return ZONE_FACTORS[zone]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown scalp zone {zone!r}; expected one of {', '.join(ZONES)}"
        ) from None


@overload
def anagen_mean_at_stage(params: ModelParameters, stage: float) -> float: ...
@overload
def anagen_mean_at_stage(
    params: ModelParameters, stage: npt.NDArray[Any]
) -> npt.NDArray[np.float64]: ...
def anagen_mean_at_stage(
    params: ModelParameters, stage: float | npt.NDArray[Any]
) -> float | npt.NDArray[np.float64]:
    """Mean anagen duration (days) of a follicle at miniaturization ``stage`` (array-friendly)."""
    a = params.alopecia
    a0 = params.cycle.anagen_mean_days
    return (
        a.anagen_floor_days
        + (a0 - a.anagen_floor_days) * (1.0 - a.anagen_shrink_per_stage) ** stage
    )


@overload
def latency_mean_at_stage(params: ModelParameters, stage: float) -> float: ...
@overload
def latency_mean_at_stage(
    params: ModelParameters, stage: npt.NDArray[Any]
) -> npt.NDArray[np.float64]: ...
def latency_mean_at_stage(
    params: ModelParameters, stage: float | npt.NDArray[Any]
) -> float | npt.NDArray[np.float64]:
    """Mean latency (kenogen) duration (days) at miniaturization ``stage`` (array-friendly)."""
    a = params.alopecia
    return np.minimum(
        params.cycle.latency_mean_days * (1.0 + a.latency_growth_per_stage * np.asarray(stage)),
        a.latency_max_days,
    )


@overload
def diameter_factor_at_stage(params: ModelParameters, stage: float) -> float: ...
@overload
def diameter_factor_at_stage(
    params: ModelParameters, stage: npt.NDArray[Any]
) -> npt.NDArray[np.float64]: ...
def diameter_factor_at_stage(
    params: ModelParameters, stage: float | npt.NDArray[Any]
) -> float | npt.NDArray[np.float64]:
    """Fraction ``(d - vellus) / (d0 - vellus)`` kept at miniaturization ``stage``."""
    return (1.0 - params.alopecia.diameter_shrink_per_stage) ** stage
