"""Closed-loop validation: follicle model → phantom images → trichometry engine → statistics.

Does the interval the clinic reports cover the truth? A replication is one synthetic cohort:

1. **Patients and their follicles** come from :func:`anagen.follicles.generate_cohort` (all
   treated: 1-4 sessions every 60 days from day 0, individual response and AGA severity; the
   treatment effect is the model's *hypothesis*). Each patient's target site is simulated over
   an *extended* area: the image plus a margin as wide as the longest hair, so that hairs whose
   follicle lies outside the picture still grow into it, exactly as on a real scalp.
2. **Images**: at baseline and at each window the hairs present are drawn by
   :func:`anagen.phantoms.render_phantom` at fixed follicle positions (the same site is
   re-imaged; new sensor noise each visit; hair colour and skin tone per patient).
3. **Measurement**: :func:`anagen.trichometry.analyze` counts the hairs (counting-frame density,
   hairs/cm²).
4. **Analysis**: :func:`anagen.evidence.summarize_change` gives the mean change from baseline
   and its paired t 95 % CI, the interval the clinic reports.

**What is covered.** The *true effect* of a window is the population mean change in total hair
density (hairs/cm², all hairs present, anagen + telogen, vellus included) from day 0 to the
window day, over the patient population of ``generate_cohort`` with every patient treated.
It is computed from the follicle model's own truth: the mean of
``(present hairs at window − present hairs at day 0) / area`` over a large truth-only
population (:func:`true_density_change`), whose Monte Carlo standard error is reported. Because
the follicles are placed uniformly over the extended area and the counting frame is unbiased,
the phantom's exact in-frame density has the same expectation, so the truth needs no imaging.

**What adds error.** (a) Sampling of patients (who is in the cohort: severity, response,
number of sessions); (b) the follicles' stochastic turnover inside the small imaged area;
(c) the engine's counting error. (a) and (b) are what the paired t interval is built for;
(c) is checked by a second interval computed from the phantoms' exact counts (a perfect
counter): if that one covers and the engine's does not, the engine is to blame.

Pure library (no Django). Replications run in worker processes when ``workers > 1``.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from anagen.evidence.change import summarize_change
from anagen.evidence.table import DAY, DEFAULT_MEASURE, PATIENT
from anagen.follicles import SyntheticPatient, generate_cohort
from anagen.phantoms import HairSpec, PhantomSpec, render_phantom
from anagen.trichometry import analyze
from anagen.trichometry.frame import CountingFrame

__all__ = [
    "TRUTH_MEASURE",
    "ClosedLoopConfig",
    "ClosedLoopResult",
    "Replication",
    "TrueChange",
    "WindowCoverage",
    "WindowEstimate",
    "replications_for_se",
    "run_closed_loop",
    "simulate_replication",
    "true_density_change",
]

#: column of the phantoms' exact in-frame density (a perfect counter) in the tidy table
TRUTH_MEASURE = "truth_density_per_cm2"

_COLOURS = ("black", "brown", "grey", "blond")
_COLOUR_P = (0.45, 0.35, 0.1, 0.1)
_SKINS = ("light", "medium", "dark")
_SKIN_P = (0.5, 0.35, 0.15)
_TRUTH_CHUNK = 250  # truth-only patients per task

T = TypeVar("T")
R = TypeVar("R")


def replications_for_se(max_se: float = 0.015, coverage: float = 0.95) -> int:
    """Replications needed for the coverage estimate's standard error to be ≤ ``max_se``.

    ``sqrt(p (1 - p) / n) <= max_se`` at the nominal ``p``: 212 for 1.5 points at 95 %.
    """
    return math.ceil(coverage * (1.0 - coverage) / max_se**2)


@dataclass(frozen=True)
class ClosedLoopConfig:
    """Sizes of the closed loop.

    Attributes
    ----------
    n_patients
        Patients per synthetic cohort.
    windows
        Follow-up days (besides the baseline at day 0); each is imaged exactly on the day.
    replications
        Cohorts simulated (default: enough for a coverage standard error ≤ 1.5 points).
    width, height, um_per_px
        Image size and calibration (640 x 480 px at 6 µm/px: a 3.8 x 2.9 mm field).
    hair_length_um
        Range of the clipped shaft length (per follicle, kept across visits; hairs are
        clipped to about 1 mm for the photograph, as in a phototrichogram).
    truth_patients
        Size of the truth-only population behind the true effect (1 cm² each).
    untreated_patients
        Size of a truth-only *untreated* population (the counterfactual change; 0 = skip).
    confidence
        Two-sided confidence level of the intervals.
    seed
        Everything is a deterministic function of the config.
    """

    n_patients: int = 16
    windows: tuple[int, ...] = (180,)
    replications: int = field(default_factory=replications_for_se)
    width: int = 640
    height: int = 480
    um_per_px: float = 6.0
    hair_length_um: tuple[float, float] = (400.0, 1000.0)
    truth_patients: int = 8000
    untreated_patients: int = 2000
    confidence: float = 0.95
    seed: int = 2026

    def __post_init__(self) -> None:
        if self.n_patients < 2:
            raise ValueError("n_patients must be >= 2 (a paired t interval needs two)")
        if not self.windows or min(self.windows) <= 0:
            raise ValueError("windows must be non-empty and > 0")
        if self.replications < 1 or self.truth_patients < 2:
            raise ValueError("replications must be >= 1 and truth_patients >= 2")

    @property
    def margin_px(self) -> float:
        """Margin of the simulated area around the image: the longest hair, plus 2 px."""
        return self.hair_length_um[1] / self.um_per_px + 2.0

    @property
    def site_area_cm2(self) -> float:
        """Simulated skin area (image plus margin on every side)."""
        m = self.margin_px
        return (self.width + 2 * m) * (self.height + 2 * m) * (self.um_per_px * 1e-4) ** 2

    @property
    def frame_area_cm2(self) -> float:
        """Area of the counting frame the engine's density refers to."""
        frame = CountingFrame.for_shape((self.height, self.width))
        return frame.area_px * (self.um_per_px * 1e-4) ** 2

    @property
    def visit_days(self) -> tuple[int, ...]:
        return (0, *sorted(self.windows))


# ---------------------------------------------------------------------------------------------
# the truth


@dataclass(frozen=True)
class TrueChange:
    """Population mean change of density from day 0 to a window, from the model's truth."""

    window_day: int
    mean: float
    se: float
    sd: float
    n: int
    untreated_mean: float = math.nan
    untreated_se: float = math.nan


def _truth_chunk(args: tuple[int, int, tuple[int, ...], float]) -> npt.NDArray[np.float64]:
    seed, n, days, treated_fraction = args
    cohort = generate_cohort(
        seed, n, visit_days=days, area_cm2=1.0, treated_fraction=treated_fraction
    )
    dens = np.array([[v.density_per_cm2 for v in p.visits] for p in cohort], dtype=float)
    change: npt.NDArray[np.float64] = dens[:, 1:] - dens[:, [0]]
    return change


def _chunks(
    seed: int, tag: int, total: int, days: tuple[int, ...], treated: float
) -> list[tuple[int, int, tuple[int, ...], float]]:
    out = []
    for k, start in enumerate(range(0, total, _TRUTH_CHUNK)):
        s = int(np.random.SeedSequence([seed, tag, k]).generate_state(1)[0])
        out.append((s, min(_TRUTH_CHUNK, total - start), days, treated))
    return out


def true_density_change(
    config: ClosedLoopConfig,
    *,
    workers: int = 1,
    progress: Callable[[int], object] | None = None,
) -> list[TrueChange]:
    """The true effect per window: mean density change over a large truth-only population.

    Each truth patient is drawn like the cohorts' patients (all treated) and simulated on 1 cm²
    (the expected change per cm² does not depend on the area). Optionally an untreated
    population gives the change without treatment (natural history of the AGA).

    Parameters
    ----------
    config
        Sizes and seed.
    workers
        Processes (1 = in this process).
    progress
        Called with the number of truth patients done after each chunk.

    Returns
    -------
    list of TrueChange
        One per window, in increasing order.
    """
    days = config.visit_days
    treated = _chunks(config.seed, 1, config.truth_patients, days, 1.0)
    untreated = _chunks(config.seed, 2, config.untreated_patients, days, 0.0)
    tasks = [*treated, *untreated]
    results = _map(_truth_chunk, tasks, workers, progress, [a[1] for a in tasks])
    t = np.concatenate(results[: len(treated)])
    u = (
        np.concatenate(results[len(treated) :])
        if untreated
        else np.full((2, len(days) - 1), np.nan)
    )
    out = []
    for j, w in enumerate(days[1:]):
        sd = float(t[:, j].std(ddof=1))
        out.append(
            TrueChange(
                window_day=int(w),
                mean=float(t[:, j].mean()),
                se=sd / math.sqrt(len(t)),
                sd=sd,
                n=len(t),
                untreated_mean=float(np.mean(u[:, j])),
                untreated_se=float(np.std(u[:, j], ddof=1) / math.sqrt(len(u))),
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# one replication


@dataclass(frozen=True)
class WindowEstimate:
    """What the clinic would report at one window, from the engine and from a perfect counter."""

    window_day: int
    n: int
    mean_change: float
    ci_low: float
    ci_high: float
    truth_mean_change: float
    truth_ci_low: float
    truth_ci_high: float
    engine_change: tuple[float, ...]  # per patient, engine
    truth_change: tuple[float, ...]  # per patient, phantom's exact count


@dataclass(frozen=True)
class Replication:
    """One synthetic cohort through the whole loop."""

    index: int
    windows: tuple[WindowEstimate, ...]
    table: pd.DataFrame
    seconds: float
    images: int


def _site_hairs(
    config: ClosedLoopConfig, patient: SyntheticPatient, day_index: int, place_seed: list[int]
) -> tuple[HairSpec, ...]:
    m = config.margin_px
    lo, hi = config.hair_length_um
    specs = []
    for hair in patient.visits[day_index].hairs:
        place = np.random.default_rng([*place_seed, hair.follicle])  # the follicle never moves
        specs.append(
            HairSpec(
                x=float(place.uniform(-m, config.width + m)),
                y=float(place.uniform(-m, config.height + m)),
                angle_deg=float(place.uniform(0.0, 360.0)),
                length_um=float(place.uniform(lo, hi)),
                diameter_um=float(hair.diameter_um),
                curvature_per_mm=float(place.normal(0.0, 0.15)),
                anagen=hair.phase == "anagen",
            )
        )
    return tuple(specs)


def _cohort_seed(config: ClosedLoopConfig, rep: int) -> int:
    return int(np.random.SeedSequence([config.seed, 0, rep]).generate_state(1)[0])


def simulate_replication(config: ClosedLoopConfig, rep: int) -> Replication:
    """Run replication ``rep``: cohort, images at every visit, engine, paired t intervals.

    Returns
    -------
    Replication
        Its tidy table has one row per patient and visit with the engine's density
        (``density_per_cm2``), the phantom's exact density (``truth_density_per_cm2``) and the
        follicle model's density over the whole simulated area (``model_density_per_cm2``).
    """
    t0 = time.perf_counter()
    seed = _cohort_seed(config, rep)
    cohort = generate_cohort(
        seed,
        config.n_patients,
        visit_days=config.visit_days,
        area_cm2=config.site_area_cm2,
        treated_fraction=1.0,
    )
    look = np.random.default_rng([config.seed, 3, rep])
    rows = []
    for i, patient in enumerate(cohort):
        colour = str(look.choice(_COLOURS, p=_COLOUR_P))
        skin = str(look.choice(_SKINS, p=_SKIN_P))
        place_seed = [config.seed, 4, rep, i]
        for k, day in enumerate(config.visit_days):
            spec = PhantomSpec(
                width=config.width,
                height=config.height,
                um_per_px=config.um_per_px,
                hair_colour=colour,
                skin_tone=skin,
                seed=int(np.random.SeedSequence(place_seed).generate_state(1)[0]),
                noise_seed=int(np.random.SeedSequence([*place_seed, day]).generate_state(1)[0]),
                hairs=_site_hairs(config, patient, k, place_seed),
            )
            image, truth = render_phantom(spec)
            measured = analyze(image, config.um_per_px)
            rows.append(
                (
                    patient.patient_id,
                    float(day),
                    measured.density_per_cm2,
                    truth.density_per_cm2,
                    patient.visits[k].density_per_cm2,
                )
            )
    table = pd.DataFrame(
        rows, columns=[PATIENT, DAY, DEFAULT_MEASURE, TRUTH_MEASURE, "model_density_per_cm2"]
    )
    windows = _estimates(table, config.windows, config.confidence)
    return Replication(
        index=rep,
        windows=windows,
        table=table,
        seconds=time.perf_counter() - t0,
        images=len(rows),
    )


def _changes(table: pd.DataFrame, measure: str, day: float) -> tuple[float, ...]:
    wide = table.pivot(index=PATIENT, columns=DAY, values=measure)
    return tuple(float(x) for x in (wide[float(day)] - wide[0.0]).to_numpy())


def _estimates(
    table: pd.DataFrame, windows: Sequence[int], confidence: float
) -> tuple[WindowEstimate, ...]:
    engine = summarize_change(table, DEFAULT_MEASURE, windows=windows, confidence=confidence)
    perfect = summarize_change(table, TRUTH_MEASURE, windows=windows, confidence=confidence)
    out = []
    for e, p in zip(engine, perfect, strict=True):
        out.append(
            WindowEstimate(
                window_day=int(e.window_day),
                n=e.n,
                mean_change=e.mean_change,
                ci_low=e.ci_low,
                ci_high=e.ci_high,
                truth_mean_change=p.mean_change,
                truth_ci_low=p.ci_low,
                truth_ci_high=p.ci_high,
                engine_change=_changes(table, DEFAULT_MEASURE, e.window_day),
                truth_change=_changes(table, TRUTH_MEASURE, e.window_day),
            )
        )
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# many replications


@dataclass(frozen=True)
class WindowCoverage:
    """Coverage and bias at one window over all replications.

    ``bias`` is the mean engine estimate minus the true effect; ``engine_error_*`` describe
    the engine's error on a patient's change (engine change minus the phantom's exact change).
    """

    window_day: int
    true_change: float
    true_change_se: float
    untreated_change: float
    replications: int
    coverage: float
    coverage_se: float
    perfect_counter_coverage: float
    mean_estimate: float
    bias: float
    bias_se: float
    perfect_counter_bias: float
    rmse: float
    mean_ci_width: float
    engine_error_mean: float
    engine_error_sd: float
    engine_truth_correlation: float


@dataclass(frozen=True)
class ClosedLoopResult:
    """Truth, every replication and the coverage summary."""

    config: ClosedLoopConfig
    truth: list[TrueChange]
    replications: list[Replication]
    wall_seconds: float
    workers: int

    def estimates(self, window_day: int) -> list[WindowEstimate]:
        """Every replication's estimate at ``window_day`` (in replication order)."""
        return [w for r in self.replications for w in r.windows if w.window_day == window_day]

    def summary(self) -> list[WindowCoverage]:
        """Coverage of the true effect, bias and the engine's error, per window."""
        out = []
        for truth in self.truth:
            est = self.estimates(truth.window_day)
            n = len(est)
            mean = np.array([e.mean_change for e in est])
            lo = np.array([e.ci_low for e in est])
            hi = np.array([e.ci_high for e in est])
            cover = (lo <= truth.mean) & (truth.mean <= hi)
            p_cover = np.array(
                [e.truth_ci_low <= truth.mean <= e.truth_ci_high for e in est], dtype=bool
            )
            p_mean = np.array([e.truth_mean_change for e in est])
            eng = np.concatenate([np.asarray(e.engine_change) for e in est])
            tru = np.concatenate([np.asarray(e.truth_change) for e in est])
            err = eng - tru
            cov = float(cover.mean())
            corr = (
                float(np.corrcoef(eng, tru)[0, 1])
                if eng.size > 1 and eng.std() > 0 and tru.std() > 0
                else math.nan
            )
            out.append(
                WindowCoverage(
                    window_day=truth.window_day,
                    true_change=truth.mean,
                    true_change_se=truth.se,
                    untreated_change=truth.untreated_mean,
                    replications=n,
                    coverage=cov,
                    coverage_se=math.sqrt(cov * (1 - cov) / n) if n else math.nan,
                    perfect_counter_coverage=float(p_cover.mean()),
                    mean_estimate=float(mean.mean()),
                    bias=float(mean.mean() - truth.mean),
                    bias_se=float(mean.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan,
                    perfect_counter_bias=float(p_mean.mean() - truth.mean),
                    rmse=float(np.sqrt(np.mean((mean - truth.mean) ** 2))),
                    mean_ci_width=float(np.mean(hi - lo)),
                    engine_error_mean=float(err.mean()),
                    engine_error_sd=float(err.std(ddof=1)) if err.size > 1 else math.nan,
                    engine_truth_correlation=corr,
                )
            )
        return out

    @property
    def seconds_per_replication(self) -> float:
        """Median worker time of one replication (one core)."""
        return float(np.median([r.seconds for r in self.replications]))

    @property
    def seconds_per_image(self) -> float:
        """Worker time per rendered and analysed image (one core)."""
        return sum(r.seconds for r in self.replications) / sum(r.images for r in self.replications)


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)


def _replication_task(args: tuple[ClosedLoopConfig, int]) -> Replication:
    return simulate_replication(*args)


def _map(
    fn: Callable[[T], R],
    tasks: list[T],
    workers: int,
    progress: Callable[[int], object] | None,
    weights: list[int] | None = None,
) -> list[R]:
    """``[fn(t) for t in tasks]``, in worker processes when ``workers > 1``, in task order."""
    weights = weights or [1] * len(tasks)
    out: list[R | None] = [None] * len(tasks)
    if workers <= 1:
        for i, t in enumerate(tasks):
            out[i] = fn(t)
            if progress is not None:
                progress(weights[i])
    else:
        with mp.get_context("spawn").Pool(workers, initializer=_init_worker) as pool:
            indexed = pool.imap_unordered(_indexed, [(fn, i, t) for i, t in enumerate(tasks)])
            for i, r in indexed:
                out[i] = r
                if progress is not None:
                    progress(weights[i])
    return [r for r in out if r is not None]


def _indexed(args: tuple[Callable[[T], R], int, T]) -> tuple[int, R]:
    fn, i, t = args
    return i, fn(t)


def run_closed_loop(
    config: ClosedLoopConfig | None = None,
    *,
    workers: int = 1,
    truth: list[TrueChange] | None = None,
    truth_progress: Callable[[int], object] | None = None,
    progress: Callable[[int], object] | None = None,
) -> ClosedLoopResult:
    """Compute the true effect, run ``config.replications`` cohorts and collect them.

    Parameters
    ----------
    config
        Sizes and seed (default :class:`ClosedLoopConfig` ``()``).
    workers
        Processes for the truth population and the replications.
    truth
        A precomputed :func:`true_density_change` (skips computing it).
    truth_progress, progress
        Called with the truth patients / replications done, for a progress bar.

    Returns
    -------
    ClosedLoopResult
    """
    config = config or ClosedLoopConfig()
    t0 = time.perf_counter()
    if truth is None:
        truth = true_density_change(config, workers=workers, progress=truth_progress)
    reps = _map(
        _replication_task,
        [(config, r) for r in range(config.replications)],
        workers,
        progress,
    )
    return ClosedLoopResult(
        config=config,
        truth=truth,
        replications=reps,
        wall_seconds=time.perf_counter() - t0,
        workers=workers,
    )
