"""Phase codes, the automaton's event logs, and time series rebuilt from them.

The simulator never samples its state on an output grid while it runs: it logs every event
(time, member, what changed) and :func:`series_from_events` rebuilds counts at any output
times afterwards with ``np.bincount`` + ``cumsum``, so the grid does not slow the run down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from .series import TimeSeries

__all__ = [
    "ANAGEN",
    "DEAD",
    "LATENCY",
    "PHASE_NAMES",
    "TELOGEN",
    "EventLog",
    "series_from_events",
]

ANAGEN, TELOGEN, LATENCY, DEAD = 0, 1, 2, 3
PHASE_NAMES = ("anagen", "telogen", "latency", "dead")

_Floats = npt.NDArray[np.float64]
# Member indices, phase codes (int8) or diameters: the logs hold all of them.
_Column = npt.NDArray[Any]


@dataclass
class EventLog:
    """Append-only event log (lists of arrays, concatenated lazily).

    Attributes
    ----------
    t, member : list of ndarray
        Event days and the member each event belongs to.
    a : list of ndarray
        Phase transitions: the phase left. Hair events: the hair's diameter.
    b : list of ndarray
        Phase transitions: the phase entered (empty for hair events).
    """

    t: list[_Floats] = field(default_factory=list)
    member: list[_Column] = field(default_factory=list)
    a: list[_Column] = field(default_factory=list)
    b: list[_Column] = field(default_factory=list)

    def add(self, t: _Floats, member: _Column, a: _Column, b: _Column | None = None) -> None:
        """Append one batch of events (ignored when empty)."""
        if len(t):
            self.t.append(t)
            self.member.append(member)
            self.a.append(a)
            if b is not None:
                self.b.append(b)

    def copy(self) -> EventLog:
        """A log with the same events that can grow independently (the arrays are shared)."""
        return EventLog(list(self.t), list(self.member), list(self.a), list(self.b))

    def arrays(self) -> tuple[_Floats, _Column, _Column, _Column | None]:
        """Return ``(t, member, a, b)`` as flat arrays (``b`` None for hair events)."""
        if not self.t:
            e = np.empty(0)
            return e, np.empty(0, np.int64), e, e
        return (
            np.concatenate(self.t),
            np.concatenate(self.member),
            np.concatenate(self.a),
            np.concatenate(self.b) if self.b else None,
        )


def series_from_events(
    t: _Floats,
    *,
    t_start: float,
    member: _Column,
    members: int,
    initial_phase: _Column,
    initial_diameter: _Floats,
    phase_log: EventLog,
    appear_log: EventLog,
    shed_log: EventLog,
    area_cm2: _Floats,
    vellus_threshold_um: float,
) -> TimeSeries:
    """Rebuild population series at output days ``t`` from the initial state and the logs.

    Parameters
    ----------
    t : ndarray
        Increasing output days, already checked to lie within the simulated span.
    t_start : float
        Day the simulation started (the start of the first shedding interval).
    member : ndarray of int
        Member of each follicle.
    members : int
        Number of members.
    initial_phase, initial_diameter : ndarray
        Phase and hair diameter of each follicle at ``t_start``.
    phase_log : EventLog
        Phase transitions.
    appear_log, shed_log : EventLog
        Hairs that appeared (new anagen) and were shed, with their diameters.
    area_cm2 : ndarray
        Skin area of each member.
    vellus_threshold_um : float
        Hairs thicker than this count as terminal.

    Returns
    -------
    TimeSeries
    """
    thr = vellus_threshold_um
    m, nt = members, t.size
    ph0, d0 = initial_phase, initial_diameter

    dts = np.diff(t)
    uniform = t.size > 1 and np.allclose(dts, dts[0], rtol=0, atol=1e-9 * max(1.0, dts[0]))

    def bins(times: _Floats, mem: _Column) -> npt.NDArray[np.integer[Any]]:
        """Flat (member, output) bin of each event; events after the last output dropped."""
        j: npt.NDArray[np.integer[Any]]
        if uniform:
            jf = np.ceil((times - t[0]) / dts[0] - 1e-9)
            np.clip(jf, 0, nt, out=jf)
            j = jf.astype(np.int64)
        else:
            j = np.searchsorted(t, times, side="left")
        return mem.astype(np.int64) * (nt + 1) + j

    def flows(flat: npt.NDArray[np.integer[Any]], weights: _Column | None) -> _Floats:
        out = _weighted_bincount(flat, weights, m * (nt + 1))
        return out.reshape(m, nt + 1)[:, :nt]

    # phase counts
    counts: dict[int, _Floats] = {}
    pt, pm, pf, pto = phase_log.arrays()
    assert pto is not None, "phase transitions always log the phase entered"
    pflat = bins(pt, pm)
    for ph in (ANAGEN, TELOGEN, LATENCY, DEAD):
        init = np.bincount(member[ph0 == ph], minlength=m).astype(float)
        w = (pto == ph).astype(float) - (pf == ph).astype(float)
        counts[ph] = init[:, None] + np.cumsum(flows(pflat, w), axis=1)
    # hairs: terminal count and diameter sum
    present0 = (ph0 == ANAGEN) | (ph0 == TELOGEN)
    d_init = _weighted_bincount(member[present0], d0[present0], m)
    term_init = np.bincount(member[present0 & (d0 > thr)], minlength=m).astype(float)
    at, am, ad, _ = appear_log.arrays()
    st, sm, sd, _ = shed_log.arrays()
    aflat, sflat = bins(at, am), bins(st, sm)
    dsum = d_init[:, None] + np.cumsum(flows(aflat, ad) - flows(sflat, sd), axis=1)
    term = term_init[:, None] + np.cumsum(
        flows(aflat, (ad > thr).astype(float)) - flows(sflat, (sd > thr).astype(float)),
        axis=1,
    )
    # shedding rate per interval
    shed = flows(sflat, None)
    prev = np.concatenate([[t_start], t[:-1]])
    dt = t - prev
    with np.errstate(invalid="ignore", divide="ignore"):
        shed_rate = np.where(dt > 0, shed / np.where(dt > 0, dt, 1), np.nan)
    return TimeSeries(
        t_days=t,
        anagen=counts[ANAGEN],
        telogen=counts[TELOGEN],
        latency=counts[LATENCY],
        dead=counts[DEAD],
        terminal=term,
        diameter_sum_um=dsum,
        shed_per_day=shed_rate,
        area_cm2=area_cm2[:, None] if m > 1 else float(area_cm2[0]),
        vellus_threshold_um=float(thr),
    )


def _weighted_bincount(
    flat: npt.NDArray[np.integer[Any]], weights: _Column | None, minlength: int
) -> _Floats:
    """``np.bincount``, typed as the float64 counts the series are built from."""
    # NumPy's stubs type every bincount as intp. With weights it is float64; the one unweighted
    # call (hairs shed) stays intp but is only divided into floats, never used as integers.
    return cast(_Floats, np.bincount(flat, weights=weights, minlength=minlength))
