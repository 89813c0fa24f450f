"""Naive day-by-day reference implementation (for tests and the speed benchmark only).

A plain Python loop over days and follicles with the same rules as the event-driven
:class:`~anagen.follicles.stochastic.FollicleSimulator` (no treatment): each day every follicle's
remaining phase time is decremented, and a follicle whose time ran out moves to the next phase
with a freshly drawn lognormal duration. Durations are whole days here (rounded up), which is the
usual discretisation of automaton models; it is slow by design.
"""

from __future__ import annotations

import math
import random

from .params import (
    ModelParameters,
    anagen_mean_at_stage,
    latency_mean_at_stage,
    lognormal_mu_sigma,
    zone_factor,
)


def naive_daily_simulation(
    n_follicles: int,
    days: int,
    seed: int = 0,
    *,
    params: ModelParameters | None = None,
    severity: float = 0.0,
    zone: str = "vertex",
    onset_day: float = math.inf,
) -> dict[str, list[float]]:
    """Simulate day by day with a Python loop; returns daily counts.

    Parameters
    ----------
    n_follicles, days : int
        Population size and number of simulated days.
    seed : int
        Seed of Python's :mod:`random` generator.
    params, severity, zone, onset_day :
        As for :class:`~anagen.follicles.stochastic.FollicleSimulator`.

    Returns
    -------
    dict
        ``anagen``, ``telogen``, ``latency``, ``dead`` (counts at the end of each day) and
        ``shed`` (hairs shed that day).
    """
    if n_follicles < 0 or days < 0:
        raise ValueError("n_follicles and days must be >= 0")
    p = params or ModelParameters()
    c = p.cycle
    e = severity * zone_factor(zone)
    rnd = random.Random(seed)
    sA = lognormal_mu_sigma(c.anagen_mean_days, c.anagen_sd_days)[1]
    sT = lognormal_mu_sigma(c.telogen_mean_days, c.telogen_sd_days)[1]
    sL = lognormal_mu_sigma(c.latency_mean_days, c.latency_sd_days)[1]
    means = [c.anagen_mean_days, c.telogen_mean_days, c.latency_mean_days]
    total = sum(means)

    def draw(mean: float, sigma: float) -> int:
        return max(1, math.ceil(mean * math.exp(sigma * rnd.gauss(0.0, 1.0) - sigma * sigma / 2)))

    phase: list[int] = []
    left: list[int] = []
    stage: list[int] = []
    for _ in range(n_follicles):
        u = rnd.random() * total
        ph = 0 if u < means[0] else (1 if u < means[0] + means[1] else 2)
        sig = (sA, sT, sL)[ph]
        full = means[ph] * math.exp(sig * rnd.gauss(0.0, 1.0) + sig * sig / 2)  # length-biased
        phase.append(ph)
        left.append(max(1, math.ceil(rnd.random() * full)))
        stage.append(0)
    out: dict[str, list[float]] = {
        "anagen": [],
        "telogen": [],
        "latency": [],
        "dead": [],
        "shed": [],
    }
    K = p.alopecia.critical_stage
    for day in range(1, days + 1):
        shed = 0
        for i in range(n_follicles):
            ph = phase[i]
            if ph == 3:
                continue
            left[i] -= 1
            if left[i] > 0:
                continue
            if ph == 0:
                phase[i] = 1
                left[i] = draw(c.telogen_mean_days, sT)
            elif ph == 1:
                shed += 1
                phase[i] = 2
                left[i] = draw(float(latency_mean_at_stage(p, stage[i])), sL)
            else:
                if day >= onset_day and rnd.random() < e:
                    stage[i] += 1
                if stage[i] >= K:
                    phase[i] = 3
                    continue
                phase[i] = 0
                left[i] = draw(float(anagen_mean_at_stage(p, stage[i])), sA)
        counts = [0, 0, 0, 0]
        for ph in phase:
            counts[ph] += 1
        out["anagen"].append(counts[0])
        out["telogen"].append(counts[1])
        out["latency"].append(counts[2])
        out["dead"].append(counts[3])
        out["shed"].append(shed)
    return out
