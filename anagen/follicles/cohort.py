"""Synthetic cohort generator: patients, target-site follicles, hair lists at each visit.

Used to test and benchmark the clinic's measurement and statistics code (and, through
``anagen.phantoms``, to render trichoscopy images with exact ground truth). Each synthetic
patient is drawn from simple, documented distributions ([HYP] unless stated), then its 1 cm2
target site is simulated with the stochastic follicular automaton from AGA onset through
baseline (day 0) and every visit. Treatment is the model hypothesis of
:class:`~anagen.follicles.params.TreatmentHypothesis`; everything here is synthetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .events import ANAGEN
from .params import MODEL_LABEL, ZONES, ModelParameters
from .series import DAYS_PER_YEAR
from .stochastic import FollicleSimulator

#: Default follow-up schedule (DESIGN.md: days 14, 30, 60, 90, 180, 365 after baseline).
DEFAULT_VISIT_DAYS: tuple[int, ...] = (0, 14, 30, 60, 90, 180, 365)


@dataclass
class Hair:
    """One hair present in the target site at a visit.

    Attributes
    ----------
    follicle : int
        Index of the follicle in the site (stable across visits: same-site re-imaging).
    phase : str
        ``"anagen"`` or ``"telogen"`` (a telogen hair stays until shed at telogen end).
    diameter_um : float
        Shaft diameter, um.
    length_mm : float
        Shaft length since the anagen started (site not clipped), mm.
    terminal : bool
        Diameter above the vellus threshold.
    """

    follicle: int
    phase: str
    diameter_um: float
    length_mm: float
    terminal: bool


@dataclass
class VisitSnapshot:
    """The target site at one visit: the list of hairs and summary measures."""

    day: int
    hairs: list[Hair]
    hair_count: int
    density_per_cm2: float
    terminal_density_per_cm2: float
    mean_diameter_um: float | None
    anagen_fraction: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dictionary."""
        return asdict(self)


@dataclass
class SyntheticPatient:
    """A synthetic patient with the simulated history of one target site."""

    patient_id: str
    age: int
    sex: str
    zone: str
    severity: float
    years_since_onset: float
    follicles_per_cm2: float
    n_follicles: int
    treated: bool
    response: float
    session_days: list[float]
    visits: list[VisitSnapshot] = field(default_factory=list)
    label: str = MODEL_LABEL

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dictionary."""
        return asdict(self)


def _snapshot(sim: FollicleSimulator, day: float, area: float, thr: float) -> VisitSnapshot:
    snap = sim.snapshot(0)
    hairs = [
        Hair(
            follicle=int(f),
            phase="anagen" if p == ANAGEN else "telogen",
            diameter_um=round(float(d), 2),
            length_mm=round(float(length), 2),
            terminal=bool(d > thr),
        )
        for f, p, d, length in zip(
            snap["follicle"], snap["phase"], snap["diameter_um"], snap["length_mm"], strict=True
        )
    ]
    n = len(hairs)
    d = snap["diameter_um"]
    return VisitSnapshot(
        day=round(day),
        hairs=hairs,
        hair_count=n,
        density_per_cm2=n / area,
        terminal_density_per_cm2=float(np.sum(d > thr)) / area,
        mean_diameter_um=float(d.mean()) if n else None,
        anagen_fraction=float(np.mean(snap["phase"] == ANAGEN)) if n else None,
    )


def generate_cohort(
    seed: int,
    n_patients: int,
    *,
    visit_days: Sequence[float] = DEFAULT_VISIT_DAYS,
    area_cm2: float = 1.0,
    treated_fraction: float = 0.7,
    params: ModelParameters | None = None,
) -> list[SyntheticPatient]:
    """Generate ``n_patients`` synthetic patients and their target-site hair lists.

    Patient draws ([HYP]): sex male with probability 0.7; age uniform 20-65; AGA onset 1-15
    years before baseline (not before age 18); severity ~ Beta(2, 3); zone: for men frontal,
    mid-scalp, vertex, temporal, occipital with weights 0.3/0.25/0.3/0.1/0.05, for women
    mid-scalp 0.6, frontal 0.2, vertex 0.2 (Ludwig pattern); follicle density
    ~ Normal(200, 25) /cm2 clipped to 120-280; treated with probability ``treated_fraction``;
    treated patients get 1-4 sessions every 60 days from day 0; response ~ lognormal with
    mean 1 and SD 0.5 (untreated: 0).

    Parameters
    ----------
    seed : int
        Random seed (same seed, same cohort).
    n_patients : int
        Number of patients (>= 0).
    visit_days : sequence of float
        Visit days from baseline (>= 0, baseline included by default).
    area_cm2 : float
        Target-site area.
    treated_fraction : float
        Probability that a patient is treated.
    params : ModelParameters, optional
        Model parameters (vellus threshold for ``terminal``).

    Returns
    -------
    list of SyntheticPatient
    """
    if n_patients < 0:
        raise ValueError("n_patients must be >= 0")
    if area_cm2 <= 0:
        raise ValueError("area_cm2 must be > 0")
    days = sorted(float(d) for d in visit_days)
    if not days or days[0] < 0:
        raise ValueError("visit_days must be non-empty and >= 0")
    params = params or ModelParameters()
    rng = np.random.default_rng(seed)
    thr = params.vellus_threshold_um
    zones_m = ("frontal", "mid_scalp", "vertex", "temporal", "occipital")
    zones_f = ("mid_scalp", "frontal", "vertex")
    assert set(zones_m) <= set(ZONES)
    patients = []
    for i in range(n_patients):
        sex = "M" if rng.random() < 0.7 else "F"
        age = int(rng.integers(20, 66))
        years = float(min(rng.uniform(1.0, 15.0), max(age - 18, 1)))
        severity = float(rng.beta(2.0, 3.0))
        if sex == "M":
            zone = str(rng.choice(zones_m, p=[0.3, 0.25, 0.3, 0.1, 0.05]))
        else:
            zone = str(rng.choice(zones_f, p=[0.6, 0.2, 0.2]))
        fdens = float(np.clip(rng.normal(200.0, 25.0), 120.0, 280.0))
        n = int(rng.poisson(fdens * area_cm2))
        treated = bool(rng.random() < treated_fraction)
        if treated:
            n_sess = int(rng.integers(1, 5))
            sessions = [60.0 * j for j in range(n_sess)]
            sig2 = np.log1p(0.5**2)
            response = float(rng.lognormal(-sig2 / 2, np.sqrt(sig2)))
        else:
            sessions, response = [], 0.0
        onset = -years * DAYS_PER_YEAR
        sim = FollicleSimulator(
            n,
            params=params,
            severity=severity,
            zone=zone,
            onset_day=onset,
            response=response,
            sessions=sessions,
            t_start=onset,
            seed=int(rng.integers(2**63)),
            area_cm2=area_cm2,
        )
        p = SyntheticPatient(
            patient_id=f"SYN-{seed}-{i + 1:04d}",
            age=age,
            sex=sex,
            zone=zone,
            severity=round(severity, 4),
            years_since_onset=round(years, 3),
            follicles_per_cm2=round(fdens, 2),
            n_follicles=n,
            treated=treated,
            response=round(response, 4),
            session_days=sessions,
        )
        for d in days:
            sim.advance_to(d)
            p.visits.append(_snapshot(sim, d, area_cm2, thr))
        patients.append(p)
    return patients
