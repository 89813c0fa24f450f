"""Deterministic mean-field version of the follicular automaton [H2002].

The expected number of follicles in each (miniaturization stage ``k``, phase) is followed by
linear ODEs. To keep the *variance* of the phase durations and not only their means, each phase
is a linear chain of ``n = round(1 / CV^2)`` exponential sub-stages (an Erlang/gamma duration
with the same mean and about the same coefficient of variation as the lognormal of the
stochastic model; the "linear chain trick"). Steady-state fractions depend only on the means and
are therefore identical to those of the stochastic model; transients differ slightly because a
gamma is not a lognormal.

The system is ``dx/dt = (M0 + rho(t) M1 + r E(t) M2 + rho(t) r E(t) M3) x`` where ``E(t)`` is the
treatment effect and ``rho = min(1, r * reversal * E)``; it is integrated exactly with a
(sparse) matrix exponential where the treatment effect is zero and with classical RK4 (step <= 2
days by default) elsewhere.
Many response values ``r`` are integrated at once (columns of ``x``), which is what calibration
uses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse.linalg import expm_multiply
from scipy.special import ndtr

from .params import (
    ModelParameters,
    anagen_mean_at_stage,
    diameter_factor_at_stage,
    latency_mean_at_stage,
    zone_factor,
)
from .series import TimeSeries

_Floats = npt.NDArray[np.float64]
# A scipy.sparse CSR matrix; SciPy ships no type information here (see pyproject's mypy section).
_Sparse = Any


def _chain_length(mean: float, sd: float) -> int:
    return max(1, round((mean / sd) ** 2))


class _Layout:
    """Index bookkeeping of the mean-field state vector."""

    def __init__(self, params: ModelParameters):
        c = params.cycle
        self.nA = _chain_length(c.anagen_mean_days, c.anagen_sd_days)
        self.nT = _chain_length(c.telogen_mean_days, c.telogen_sd_days)
        self.nL = _chain_length(c.latency_mean_days, c.latency_sd_days)
        self.K = int(params.alopecia.critical_stage)
        self.block = self.nA + self.nT + self.nL
        self.size = self.K * self.block + 1
        self.dead = self.size - 1

    def a(self, k: int, j: int = 0) -> int:
        return k * self.block + j

    def t(self, k: int, j: int = 0) -> int:
        return k * self.block + self.nA + j

    def l(self, k: int, j: int = 0) -> int:  # noqa: E743
        return k * self.block + self.nA + self.nT + j


@lru_cache(maxsize=64)
def _matrices(params: ModelParameters, e: float) -> tuple[_Layout, _Floats, _Sparse]:
    """Return layout, ``M0`` and the sparse ``[M0 M1 M2 M3]`` for effective severity ``e``."""
    lay = _Layout(params)
    S, K = lay.size, lay.K
    c, tr = params.cycle, params.treatment
    W = np.zeros((S, S))
    Fs = np.zeros((K, S))
    Fi = np.zeros((K, S))
    Di = np.zeros(S)
    for k in range(K):
        rA = lay.nA / float(anagen_mean_at_stage(params, k))
        rT = lay.nT / c.telogen_mean_days
        rL = lay.nL / float(latency_mean_at_stage(params, k))
        for j in range(lay.nA):
            i = lay.a(k, j)
            W[i, i] -= rA
            W[i + 1 if j < lay.nA - 1 else lay.t(k), i] += rA
        for j in range(lay.nT):
            i = lay.t(k, j)
            W[i, i] -= rT
            W[i + 1 if j < lay.nT - 1 else lay.l(k), i] += rT
            Fi[k, i] = tr.telogen_to_anagen_per_day
            Di[i] = tr.telogen_to_anagen_per_day
        for j in range(lay.nL):
            i = lay.l(k, j)
            W[i, i] -= rL
            if j < lay.nL - 1:
                W[i + 1, i] += rL
            else:
                Fs[k, i] = rL
            Fi[k, i] = tr.latency_to_anagen_per_day
            Di[i] = tr.latency_to_anagen_per_day
    # anagen-start branching: B_stay, B_up, B_down (S x K)
    Bs = np.zeros((S, K))
    Bu = np.zeros((S, K))
    Bd = np.zeros((S, K))
    for k in range(K):
        Bs[lay.a(k), k] = 1.0
        Bu[lay.a(k + 1) if k + 1 < K else lay.dead, k] = 1.0
        Bd[lay.a(max(k - 1, 0)), k] = 1.0
    Ba = Bs * (1 - e) + e * Bu
    Bb = Bs * (2 * e - 1) - e * Bu + (1 - e) * Bd
    M0 = W + Ba @ Fs
    M1 = Bb @ Fs
    M2 = Ba @ Fi - np.diag(Di)
    M3 = Bb @ Fi
    big = sparse.csr_matrix(np.hstack([M0, M1, M2, M3]))
    return lay, M0, big


def stationary_state(params: ModelParameters) -> _Floats:
    """Stationary distribution (fractions) of the normal cycle over the mean-field state."""
    lay = _Layout(params)
    c = params.cycle
    x = np.zeros(lay.size)
    total = c.cycle_mean_days()
    x[lay.a(0) : lay.a(0) + lay.nA] = c.anagen_mean_days / total / lay.nA
    x[lay.t(0) : lay.t(0) + lay.nT] = c.telogen_mean_days / total / lay.nT
    x[lay.l(0) : lay.l(0) + lay.nL] = c.latency_mean_days / total / lay.nL
    return x


def steady_state_fractions(params: ModelParameters | None = None) -> dict[str, float]:
    """Normal-scalp steady state of the deterministic model.

    Returns
    -------
    dict
        ``anagen``, ``telogen``, ``latency`` (fractions of follicles), ``anagen_of_hairs``
        (share of hairs present in anagen), ``shed_per_day_per_100k``.
    """
    c = (params or ModelParameters()).cycle
    total = c.cycle_mean_days()
    a, t, l_ = c.anagen_mean_days, c.telogen_mean_days, c.latency_mean_days
    return {
        "anagen": a / total,
        "telogen": t / total,
        "latency": l_ / total,
        "anagen_of_hairs": a / (a + t),
        "shed_per_day_per_100k": 1e5 / total,
    }


def _extension_map(n: int, x: float) -> _Floats:
    """Shift an anagen chain so that remaining sub-stages are multiplied by ``1 + x``."""
    P = np.zeros((n, n))
    for j in range(n):
        jn = max(0.0, n - (n - j) * (1.0 + x))
        lo = math.floor(jn)
        w = jn - lo
        P[lo, j] += 1 - w
        if w > 0:
            P[min(lo + 1, n - 1), j] += w
    return P


def _observe(
    params: ModelParameters, lay: _Layout, X: _Floats, e_r: _Floats, E: float
) -> tuple[_Floats, ...]:
    """Observables of state columns ``X`` (S x R): phase totals, diameters, shedding rate."""
    K = lay.K
    al = params.alopecia
    blocks = X[: K * lay.block].reshape(K, lay.block, -1)
    A = blocks[:, : lay.nA].sum(axis=1)  # K x R
    T = blocks[:, lay.nA : lay.nA + lay.nT].sum(axis=1)
    L = blocks[:, lay.nA + lay.nT :].sum(axis=1)
    ks = np.arange(K)
    f = diameter_factor_at_stage(params, ks)
    dmean = al.vellus_diameter_um + (al.terminal_diameter_mean_um - al.vellus_diameter_um) * f
    need = al.vellus_diameter_um + (params.vellus_threshold_um - al.vellus_diameter_um) / f
    pterm = 1.0 - ndtr((need - al.terminal_diameter_mean_um) / al.terminal_diameter_sd_um)
    H = A + T
    rT = lay.nT / params.cycle.telogen_mean_days
    last_T = blocks[:, lay.nA + lay.nT - 1]
    shed = rT * last_T.sum(axis=0) + e_r * E * params.treatment.telogen_to_anagen_per_day * T.sum(
        axis=0
    )
    return (
        A.sum(axis=0),
        T.sum(axis=0),
        L.sum(axis=0),
        X[lay.dead],
        (H * pterm[:, None]).sum(axis=0),
        (H * dmean[:, None]).sum(axis=0),
        shed,
    )


def mean_field(
    t_days: npt.ArrayLike,
    *,
    n_follicles: float = 1.0,
    params: ModelParameters | None = None,
    severity: float = 0.0,
    zone: str = "vertex",
    onset_day: float = math.inf,
    response: npt.ArrayLike = 1.0,
    sessions: Sequence[float] = (),
    t_start: float = 0.0,
    max_step_days: float = 2.0,
) -> TimeSeries:
    """Integrate the deterministic mean-field model.

    Parameters
    ----------
    t_days : sequence of float
        Increasing output days (>= ``t_start``).
    n_follicles : float
        Population size the expected counts are scaled to.
    params, severity, zone, onset_day :
        As in :class:`~anagen.follicles.stochastic.FollicleSimulator`.
    response : float or sequence of float
        Treatment response(s); one output row ("member") per value, integrated together.
    sessions : sequence of float
        Session days (model hypothesis).
    t_start : float
        Start day; the population starts in the normal stationary state.
    max_step_days : float
        RK4 step while a treatment effect is present.

    Returns
    -------
    TimeSeries
        Expected counts, one row per response value.
    """
    params = params or ModelParameters()
    if not 0.0 <= severity <= 1.0:
        raise ValueError("severity must be within [0, 1]")
    e = float(severity) * zone_factor(zone)
    t_out = np.asarray(t_days, dtype=float)
    if t_out.ndim != 1 or t_out.size == 0 or np.any(np.diff(t_out) < 0):
        raise ValueError("t_days must be a non-empty increasing 1-D sequence")
    if t_out[0] < t_start:
        raise ValueError("output times must be >= t_start")
    r = np.atleast_1d(np.asarray(response, dtype=float))
    if np.any(r < 0):
        raise ValueError("response must be >= 0")
    R = r.size
    tr = params.treatment
    lam = tr.decay_per_day
    sess = np.sort(np.asarray(list(sessions), dtype=float))
    lay, *_ = _matrices(params, 0.0)
    X = np.repeat(stationary_state(params)[:, None], R, axis=1)
    # sessions before the start only contribute their decayed effect
    past = sess[sess < t_start]
    anchor_t, anchor_v = t_start, float(np.exp(-lam * (t_start - past)).sum())
    events = sorted(
        {float(t) for t in t_out}
        | {float(s) for s in sess if s >= t_start}
        | ({float(onset_day)} if t_start < onset_day <= t_out[-1] else set())
    )
    sess_set = {float(s) for s in sess if s >= t_start}
    out = np.zeros((7, R, t_out.size))
    t = float(t_start)
    ext = np.stack([_extension_map(lay.nA, tr.anagen_extension * ri) for ri in r])
    oi = 0

    def mats(time: float) -> tuple[_Layout, _Floats, _Sparse]:
        return _matrices(params, e if time >= onset_day else 0.0)

    for tb in events:
        if tb > t:
            _, _, big = mats(t)
            dt = tb - t
            if anchor_v * math.exp(-lam * (t - anchor_t)) < 1e-12:
                # no treatment effect: x(t + dt) = expm(M0 dt) x(t), exactly (sparse Krylov-free
                # truncated Taylor of scipy); columns are identical here, propagate one
                M0s = big[:, : lay.size]
                if np.all(X[:, :1] == X):
                    X = np.repeat(expm_multiply(M0s * dt, X[:, 0])[:, None], R, axis=1)
                else:
                    X = expm_multiply(M0s * dt, X)
            else:
                n = max(1, math.ceil(dt / max_step_days))
                h = dt / n

                def rhs(
                    tt: float,
                    Y: _Floats,
                    big: _Sparse = big,
                    av: float = anchor_v,
                    at: float = anchor_t,
                ) -> _Floats:
                    E = av * math.exp(-lam * (tt - at))
                    rho = np.minimum(1.0, r * tr.reversal_per_anagen * E)
                    rE = r * E
                    dY: _Floats = big @ np.vstack([Y, Y * rho, Y * rE, Y * (rho * rE)])
                    return dY

                for i in range(n):
                    t0 = t + i * h
                    k1 = rhs(t0, X)
                    k2 = rhs(t0 + h / 2, X + h / 2 * k1)
                    k3 = rhs(t0 + h / 2, X + h / 2 * k2)
                    k4 = rhs(t0 + h, X + h * k3)
                    X = X + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            t = tb
        if tb in sess_set:
            anchor_v = anchor_v * math.exp(-lam * (tb - anchor_t)) + 1.0
            anchor_t = tb
            for k in range(lay.K):
                sl = slice(lay.a(k), lay.a(k) + lay.nA)
                X[sl] = np.einsum("rij,jr->ir", ext, X[sl])
        while oi < t_out.size and t_out[oi] <= t + 1e-12:
            E = anchor_v * math.exp(-lam * (t - anchor_t))
            obs = _observe(params, lay, X, r, E)
            for q, v in enumerate(obs):
                out[q, :, oi] = v
            oi += 1
    scale = float(n_follicles)
    return TimeSeries(
        t_days=t_out,
        anagen=out[0] * scale,
        telogen=out[1] * scale,
        latency=out[2] * scale,
        dead=out[3] * scale,
        terminal=out[4] * scale,
        diameter_sum_um=out[5] * scale,
        shed_per_day=out[6] * scale,
        area_cm2=scale / params.follicles_per_cm2,
        vellus_threshold_um=params.vellus_threshold_um,
    )
