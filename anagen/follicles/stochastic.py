"""Event-driven, vectorized stochastic follicular automaton [H2000].

Every follicle carries its own next-event time. The simulator advances from one treatment
session to the next (or to the requested time) in *generations*: each generation processes, for
every follicle whose next event falls before the segment end, exactly that one event (the
follicles are independent, so the order across follicles does not matter). All follicles of all
ensemble members live in the same flat arrays, so 1,000 forecast members of 200 follicles cost
about as much as one population of 200,000 follicles.

Each event is logged (time, member, what changed) and time series at any resolution (daily,
monthly, visit days) are rebuilt afterwards by :func:`~anagen.follicles.events.series_from_events`;
the output grid therefore does not slow the simulation down.

Treatment (a hypothesis, see :class:`~anagen.follicles.params.TreatmentHypothesis`) is exact
for a piecewise exponentially decaying effect: between two sessions the induced-transition
hazard is ``h E(s) exp(-lambda (t - s))``, whose first-event time is drawn by inversion.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .events import (
    ANAGEN,
    DEAD,
    LATENCY,
    PHASE_NAMES,
    TELOGEN,
    EventLog,
    series_from_events,
)
from .params import (
    ModelParameters,
    anagen_mean_at_stage,
    diameter_factor_at_stage,
    latency_mean_at_stage,
    lognormal_mu_sigma,
    zone_factor,
)
from .series import DAYS_PER_YEAR, TimeSeries, output_grid

# Phase codes, DAYS_PER_YEAR, TimeSeries and output_grid live beside this module and are
# re-exported here, where callers have always imported them from.
_Floats = npt.NDArray[np.float64]
_Index = npt.NDArray[np.intp]

__all__ = [
    "ANAGEN",
    "DAYS_PER_YEAR",
    "DEAD",
    "LATENCY",
    "PHASE_NAMES",
    "TELOGEN",
    "FollicleSimulator",
    "TimeSeries",
    "output_grid",
    "simulate",
]


def _check_nonneg(name: str, value: float) -> None:
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


class FollicleSimulator:
    """Stochastic follicular automaton for one or many populations ("members").

    Parameters
    ----------
    follicles_per_member : int or sequence of int
        Number of follicles of each member (one population per member).
    params : ModelParameters, optional
        Model parameters (defaults: :class:`~anagen.follicles.params.ModelParameters`).
    severity : float or array_like
        AGA severity per member, 0-1 (probability that a follicle's miniaturization stage
        advances at each anagen after onset, before the zone factor).
    zone : str
        Scalp zone (see :data:`~anagen.follicles.params.ZONES`); multiplies the severity.
    onset_day : float or array_like
        Day AGA starts, per member (``inf`` = never).
    response : float or array_like
        Treatment response multiplier per member (0 = none, 1 = typical). Model hypothesis.
    sessions : sequence of float
        Treatment session days (shared by all members).
    t_start : float
        Start day. Follicles start in the stationary state of the normal cycle.
    seed : int or numpy.random.Generator
        Seed; the run is fully determined by it.
    area_cm2 : float or array_like, optional
        Skin area of each member (default: follicles / ``params.follicles_per_cm2``).
    """

    def __init__(
        self,
        follicles_per_member: npt.ArrayLike,
        *,
        params: ModelParameters | None = None,
        severity: npt.ArrayLike = 0.0,
        zone: str = "vertex",
        onset_day: npt.ArrayLike = np.inf,
        response: npt.ArrayLike = 1.0,
        sessions: Sequence[float] = (),
        t_start: float = 0.0,
        seed: int | np.random.Generator = 0,
        area_cm2: npt.ArrayLike | None = None,
    ) -> None:
        self.params = params or ModelParameters()
        counts = np.atleast_1d(np.asarray(follicles_per_member))
        if counts.ndim != 1 or counts.size == 0:
            raise ValueError("follicles_per_member must be an int or a 1-D sequence of ints")
        if np.any(counts < 0) or not np.all(np.equal(np.mod(counts, 1), 0)):
            raise ValueError(f"number of follicles must be a non-negative integer, got {counts}")
        counts = counts.astype(np.int64)
        m = counts.size
        zf = zone_factor(zone)
        sev = np.broadcast_to(np.asarray(severity, dtype=float), (m,))
        if np.any(~np.isfinite(sev)) or np.any(sev < 0) or np.any(sev > 1):
            raise ValueError("severity must be within [0, 1]")
        resp = np.broadcast_to(np.asarray(response, dtype=float), (m,))
        if np.any(~np.isfinite(resp)) or np.any(resp < 0):
            raise ValueError("response must be a finite number >= 0")
        onset = np.broadcast_to(np.asarray(onset_day, dtype=float), (m,))
        if np.any(np.isnan(onset)):
            raise ValueError("onset_day must not be NaN")
        sess = np.sort(np.asarray(list(sessions), dtype=float))
        if sess.size and not np.all(np.isfinite(sess)):
            raise ValueError("session days must be finite")
        if not np.any(resp > 0):
            sess = sess[:0]  # no responder: sessions change nothing (and draw no random numbers)
        self.zone = zone
        self.members = m
        self.counts = counts
        self.sessions = sess
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.t = float(t_start)
        self.t_start = float(t_start)
        if area_cm2 is None:
            self.area_cm2 = counts / (params or ModelParameters()).follicles_per_cm2
        else:
            self.area_cm2 = np.broadcast_to(np.asarray(area_cm2, dtype=float), (m,)).copy()
            if np.any(self.area_cm2 <= 0):
                raise ValueError("area_cm2 must be > 0")

        p = self.params
        n = int(counts.sum())
        self.n = n
        self.member = np.repeat(np.arange(m, dtype=np.int64), counts)
        self.local_index = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)
        self.e = (sev * zf)[self.member]
        self.r = resp[self.member]
        self.onset = onset[self.member]
        al = p.alopecia
        self.d0 = np.clip(
            self.rng.normal(al.terminal_diameter_mean_um, al.terminal_diameter_sd_um, n),
            al.vellus_diameter_um + 5.0,
            None,
        )
        self.k = np.zeros(n, dtype=np.int64)
        self._sig = {
            "A": lognormal_mu_sigma(p.cycle.anagen_mean_days, p.cycle.anagen_sd_days)[1],
            "T": lognormal_mu_sigma(p.cycle.telogen_mean_days, p.cycle.telogen_sd_days)[1],
            "L": lognormal_mu_sigma(p.cycle.latency_mean_days, p.cycle.latency_sd_days)[1],
        }
        tr = p.treatment
        self._lam = tr.decay_per_day
        self._hT = self.r * tr.telogen_to_anagen_per_day
        self._hL = self.r * tr.latency_to_anagen_per_day
        # effect E(t) = anchor_val * exp(-lam (t - anchor_t)) since the last applied session
        self._anchor_t = self.t
        self._anchor_val = 0.0
        self._next_session = int(np.searchsorted(sess, self.t, side="left"))
        self._init_stationary()
        self.phase_log = EventLog()
        self.appear_log = EventLog()
        self.shed_log = EventLog()
        self._initial = (self.phase.copy(), self.diam.copy())

    # ------------------------------------------------------------------ initial state
    def _init_stationary(self) -> None:
        """Stationary state of the normal renewal cycle (exact, no burn-in needed).

        The phase is chosen with probability proportional to its mean duration; the current
        phase's total duration is drawn from the *length-biased* lognormal
        ``LN(mu + sigma^2, sigma)`` and the elapsed part is a uniform fraction of it.
        """
        c = self.params.cycle
        n = self.n
        means = np.array([c.anagen_mean_days, c.telogen_mean_days, c.latency_mean_days])
        probs = means / means.sum()
        self.phase = self.rng.choice(3, size=n, p=probs).astype(np.int8)
        mus = np.empty(n)
        sig = np.empty(n)
        for ph, (mean, sd) in enumerate(
            [
                (c.anagen_mean_days, c.anagen_sd_days),
                (c.telogen_mean_days, c.telogen_sd_days),
                (c.latency_mean_days, c.latency_sd_days),
            ]
        ):
            mu, s = lognormal_mu_sigma(mean, sd)
            sel = self.phase == ph
            mus[sel] = mu + s * s
            sig[sel] = s
        total = np.exp(mus + sig * self.rng.standard_normal(n))
        u = self.rng.random(n)
        self.t_next = self.t + u * total
        self.t_anagen = np.where(self.phase == ANAGEN, self.t - (1 - u) * total, np.nan)
        self.t_ind = np.full(n, np.inf)
        self.diam = self._new_diameter(np.arange(n))
        self.diam[self.phase == LATENCY] = np.nan
        # telogen hairs: anagen ended (1 - u) * total ago, after an anagen of mean length
        tel = self.phase == TELOGEN
        self.t_stop = np.full(n, np.nan)
        self.t_stop[tel] = self.t - (1 - u[tel]) * total[tel]
        self.t_anagen[tel] = self.t_stop[tel] - c.anagen_mean_days

    # ------------------------------------------------------------------ helpers
    def _new_diameter(self, idx: _Index) -> _Floats:
        al = self.params.alopecia
        f = diameter_factor_at_stage(self.params, self.k[idx])
        cv = al.diameter_jitter_cv
        jitter = np.exp(cv * self.rng.standard_normal(idx.size) - cv * cv / 2)
        return al.vellus_diameter_um + (self.d0[idx] - al.vellus_diameter_um) * f * jitter

    def _lognormal(self, mean: _Floats, sigma: float) -> _Floats:
        z = self.rng.standard_normal(np.shape(mean))
        return mean * np.exp(sigma * z - sigma * sigma / 2)

    def effect(self, t: npt.ArrayLike) -> _Floats:
        """Treatment effect ``E(t)`` of the sessions applied so far (valid until the next)."""
        return self._anchor_val * np.exp(-self._lam * (np.asarray(t, dtype=float) - self._anchor_t))

    def _draw_induced(self, idx: _Index, te: _Floats, h: _Floats) -> _Floats:
        """First time of an induced transition with hazard ``h E(t)`` after ``te``."""
        out = np.full(idx.size, np.inf)
        if self._anchor_val <= 0 or idx.size == 0:
            return out
        q = h * self.effect(te) / self._lam  # expected number of induced events until t = inf
        x = self.rng.exponential(size=idx.size)
        hit = x < q
        out[hit] = te[hit] - np.log1p(-x[hit] / q[hit]) / self._lam
        return out

    # ------------------------------------------------------------------ event processing
    def _log_transition(self, te: _Floats, idx: _Index, frm: int, to: int) -> None:
        self.phase_log.add(
            te, self.member[idx], np.full(idx.size, frm, np.int8), np.full(idx.size, to, np.int8)
        )

    def _enter_rest(
        self,
        idx: _Index,
        te: _Floats,
        frm: int,
        to: int,
        mean: _Floats,
        sigma: float,
        hazard: _Floats,
    ) -> None:
        """Move follicles into telogen or latency: draw the phase's end and an induced exit."""
        self.phase[idx] = to
        self.t_next[idx] = te + self._lognormal(mean, sigma)
        self.t_ind[idx] = self._draw_induced(idx, te, hazard[idx])
        self._log_transition(te, idx, frm, to)

    def _to_telogen(self, idx: _Index, te: _Floats) -> None:
        self.t_stop[idx] = te
        mean = np.full(idx.size, self.params.cycle.telogen_mean_days)
        self._enter_rest(idx, te, ANAGEN, TELOGEN, mean, self._sig["T"], self._hT)

    def _shed(self, idx: _Index, te: _Floats) -> None:
        self.shed_log.add(te, self.member[idx], self.diam[idx])
        self.diam[idx] = np.nan

    def _to_latency(self, idx: _Index, te: _Floats) -> None:
        mean = latency_mean_at_stage(self.params, self.k[idx])
        self._enter_rest(idx, te, TELOGEN, LATENCY, mean, self._sig["L"], self._hL)

    def _new_anagen(self, idx: _Index, te: _Floats, from_phase: int) -> None:
        if idx.size == 0:
            return
        post = te >= self.onset[idx]
        up = post & (self.rng.random(idx.size) < self.e[idx])
        k = self.k[idx] + up
        if self._anchor_val > 0:
            rho = np.minimum(
                1.0, self.r[idx] * self.params.treatment.reversal_per_anagen * self.effect(te)
            )
            down = self.rng.random(idx.size) < rho
            k = np.maximum(k - down, 0)
        self.k[idx] = k
        dead = k >= self.params.alopecia.critical_stage
        if dead.any():
            di = idx[dead]
            self.phase[di] = DEAD
            self.t_next[di] = np.inf
            self.t_ind[di] = np.inf
            self._log_transition(te[dead], di, from_phase, DEAD)
        alive = ~dead
        ai, ta = idx[alive], te[alive]
        self.phase[ai] = ANAGEN
        self.diam[ai] = self._new_diameter(ai)
        self.t_anagen[ai] = ta
        self.t_next[ai] = ta + self._lognormal(
            anagen_mean_at_stage(self.params, self.k[ai]), self._sig["A"]
        )
        self.t_ind[ai] = np.inf
        self._log_transition(ta, ai, from_phase, ANAGEN)
        self.appear_log.add(ta, self.member[ai], self.diam[ai])

    def _process(self, act: _Index) -> None:
        tn, ti = self.t_next[act], self.t_ind[act]
        induced = ti < tn
        te = np.where(induced, ti, tn)
        ph = self.phase[act]
        sel = ph == ANAGEN
        self._to_telogen(act[sel], te[sel])
        sel = ph == TELOGEN
        if sel.any():
            idx, t, ind = act[sel], te[sel], induced[sel]
            self._shed(idx, t)
            self._to_latency(idx[~ind], t[~ind])
            self._new_anagen(idx[ind], t[ind], TELOGEN)
        sel = ph == LATENCY
        self._new_anagen(act[sel], te[sel], LATENCY)

    def _run_until(self, t1: float) -> None:
        t_evt = np.minimum(self.t_next, self.t_ind)
        act = np.flatnonzero(t_evt <= t1)
        while act.size:
            self._process(act)
            act = act[np.minimum(self.t_next[act], self.t_ind[act]) <= t1]

    def _apply_session(self, s: float) -> None:
        self._anchor_val = float(self.effect(s)) + 1.0
        self._anchor_t = s
        # (3) lengthen the remaining anagen of growing hairs
        ana = np.flatnonzero(self.phase == ANAGEN)
        g = self.params.treatment.anagen_extension
        self.t_next[ana] = s + (self.t_next[ana] - s) * (1.0 + g * self.r[ana])
        # (1)(2) new effect profile: redraw induced times (memoryless, hence exact)
        for ph, h in ((TELOGEN, self._hT), (LATENCY, self._hL)):
            idx = np.flatnonzero(self.phase == ph)
            self.t_ind[idx] = self._draw_induced(idx, np.full(idx.size, s), h[idx])

    def advance_to(self, t_end: float) -> None:
        """Advance the simulation to day ``t_end`` (sessions are applied on their days)."""
        if t_end < self.t:
            raise ValueError(f"cannot go back in time from day {self.t} to {t_end}")
        while True:
            s_next = (
                self.sessions[self._next_session]
                if self._next_session < self.sessions.size
                else np.inf
            )
            seg_end = min(t_end, s_next)
            self._run_until(seg_end)
            self.t = seg_end
            if s_next <= t_end:
                self._apply_session(s_next)
                self._next_session += 1
                continue
            break

    def fork(
        self, extra_sessions: Sequence[float] = (), seed: int | np.random.Generator | None = None
    ) -> FollicleSimulator:
        """Return an independent copy sharing the history so far, with extra future sessions.

        Parameters
        ----------
        extra_sessions : sequence of float
            Session days to add (must be later than the current day).
        seed : int or Generator, optional
            Random stream of the copy (default: derived from this simulator's stream).
        """
        extra = np.asarray(list(extra_sessions), dtype=float)
        if extra.size and extra.min() <= self.t:
            raise ValueError("extra sessions must be later than the current day")
        new = copy.copy(self)
        for name in ("phase", "t_next", "t_ind", "k", "diam", "t_anagen", "t_stop"):
            setattr(new, name, getattr(self, name).copy())
        for name in ("phase_log", "appear_log", "shed_log"):
            setattr(new, name, getattr(self, name).copy())
        new.sessions = np.sort(np.concatenate([self.sessions, extra]))
        if isinstance(seed, np.random.Generator):
            seed = int(seed.integers(2**63))
        elif seed is None:
            seed = int(self.rng.integers(2**63))
        new.rng = np.random.default_rng(seed)
        return new

    # ------------------------------------------------------------------ outputs
    def snapshot(self, member: int = 0) -> dict[str, npt.NDArray[Any]]:
        """Hairs present now in ``member``: follicle index, phase, diameter, length.

        Returns
        -------
        dict
            ``follicle`` (index within the member), ``phase`` (0 anagen, 1 telogen),
            ``diameter_um``, ``length_mm`` (shaft grown since the anagen started; telogen
            hairs keep the length reached when they stopped growing; the site is assumed
            unclipped), ``stage`` (miniaturization stage).
        """
        sel = (self.member == member) & ((self.phase == ANAGEN) | (self.phase == TELOGEN))
        idx = np.flatnonzero(sel)
        grow = self.params.growth_mm_per_day
        length = np.where(
            self.phase[idx] == ANAGEN,
            (self.t - self.t_anagen[idx]) * grow,
            np.nan,
        )
        # telogen: length reached when anagen stopped (initial hairs: a mean-length anagen)
        tel = self.phase[idx] == TELOGEN
        length[tel] = (self.t_stop[idx][tel] - self.t_anagen[idx][tel]) * grow
        return {
            "follicle": self.local_index[idx],
            "phase": self.phase[idx].astype(np.int64),
            "diameter_um": self.diam[idx],
            "length_mm": length,
            "stage": self.k[idx],
        }

    def timeseries(
        self, t_days: npt.ArrayLike, vellus_threshold_um: float | None = None
    ) -> TimeSeries:
        """Rebuild population series at ``t_days`` (each within ``[t_start, now]``).

        Parameters
        ----------
        t_days : sequence of float
            Increasing output days.
        vellus_threshold_um : float, optional
            Terminal threshold; defaults to ``params.vellus_threshold_um``.
        """
        t = np.asarray(t_days, dtype=float)
        if t.ndim != 1 or t.size == 0 or np.any(np.diff(t) < 0):
            raise ValueError("t_days must be a non-empty increasing 1-D sequence")
        if t[0] < self.t_start - 1e-9 or t[-1] > self.t + 1e-9:
            raise ValueError("output times must lie between the start and the current day")
        thr = (
            self.params.vellus_threshold_um if vellus_threshold_um is None else vellus_threshold_um
        )
        ph0, d0 = self._initial
        return series_from_events(
            t,
            t_start=self.t_start,
            member=self.member,
            members=self.members,
            initial_phase=ph0,
            initial_diameter=d0,
            phase_log=self.phase_log,
            appear_log=self.appear_log,
            shed_log=self.shed_log,
            area_cm2=self.area_cm2,
            vellus_threshold_um=thr,
        )


def simulate(
    n_follicles: int,
    years: float,
    seed: int = 0,
    *,
    params: ModelParameters | None = None,
    zone: str = "vertex",
    severity: float = 0.0,
    aga_onset_years: float | None = None,
    response: float = 1.0,
    session_days: Sequence[float] = (),
    step: str | float = "monthly",
    members: int = 1,
    progress: bool = False,
) -> TimeSeries:
    """Simulate a follicle population (the ``anagen follicles simulate`` engine).

    Parameters
    ----------
    n_follicles : int
        Follicles per population (>= 0).
    years : float
        Simulated duration (>= 0).
    seed : int
        Random seed; same seed, same result.
    params : ModelParameters, optional
        Model parameters.
    zone : str
        Scalp zone; sets the AGA severity factor.
    severity : float
        AGA severity 0-1 (used only if ``aga_onset_years`` is given).
    aga_onset_years : float, optional
        Years after the start at which AGA begins; ``None`` = normal scalp.
    response, session_days :
        Treatment response and session days (a **model** hypothesis).
    step : {"monthly", "daily", "yearly"} or float
        Output step.
    members : int
        Independent replicate populations (outputs have one row per member).
    progress : bool
        Show a tqdm progress bar on stderr.

    Returns
    -------
    TimeSeries
    """
    try:
        n_follicles = int(n_follicles)
    except (TypeError, ValueError):
        raise ValueError(f"number of follicles must be an integer, got {n_follicles!r}") from None
    if n_follicles < 0:
        raise ValueError(f"number of follicles must be >= 0, got {n_follicles}")
    _check_nonneg("years", float(years))
    if members < 1:
        raise ValueError("members must be >= 1")
    onset = np.inf
    if aga_onset_years is not None:
        _check_nonneg("aga_onset_years", float(aga_onset_years))
        onset = float(aga_onset_years) * DAYS_PER_YEAR
    sim = FollicleSimulator(
        [n_follicles] * members,
        params=params,
        severity=severity if aga_onset_years is not None else 0.0,
        zone=zone,
        onset_day=onset,
        response=response,
        sessions=session_days,
        seed=seed,
    )
    grid = output_grid(years, step)
    end = years * DAYS_PER_YEAR
    if progress:
        from tqdm import tqdm

        with tqdm(total=end, unit="day", desc="follicles", file=None, leave=False) as bar:
            for chunk_end in np.linspace(0, end, 21)[1:]:
                sim.advance_to(float(chunk_end))
                bar.update(end / 20)
    else:
        sim.advance_to(end)
    return sim.timeseries(grid)
