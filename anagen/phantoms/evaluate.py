"""Compare detected hairs with phantom ground truth (used by tests and the benchmark)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from anagen.phantoms.spec import GroundTruth


@dataclass(frozen=True)
class MatchReport:
    """One-to-one matching of detected hairs to true hairs.

    ``pairs`` holds ``(detected index, truth id)``; ``n_truth`` counts the true hairs that are
    visible over at least ``min_visible_um`` inside the image (the recall denominator).
    """

    pairs: tuple[tuple[int, int], ...]
    n_detected: int
    n_truth: int
    n_truth_matched: int
    n_false: int

    @property
    def precision(self) -> float:
        return (self.n_detected - self.n_false) / self.n_detected if self.n_detected else 1.0

    @property
    def recall(self) -> float:
        return self.n_truth_matched / self.n_truth if self.n_truth else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _densify(poly: np.ndarray, step: float = 1.0) -> np.ndarray:
    poly = np.asarray(poly, dtype=float)
    if len(poly) < 2:
        return poly
    seg = np.hypot(*np.diff(poly, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    t = np.arange(0.0, s[-1] + 1e-9, step)
    return np.stack([np.interp(t, s, poly[:, 0]), np.interp(t, s, poly[:, 1])], 1)


def visible_length_px(poly: np.ndarray, width: int, height: int) -> float:
    """Length of a centreline inside the image, in pixels."""
    q = _densify(poly, 1.0)
    inside = (q[:, 0] >= 0) & (q[:, 0] < width) & (q[:, 1] >= 0) & (q[:, 1] < height)
    return float(inside.sum())


def match_hairs(
    detected: Sequence[np.ndarray],
    truth: GroundTruth,
    min_visible_um: float = 150.0,
    tol_px: float = 3.0,
) -> MatchReport:
    """Match detected centrelines (or point sets) to true hairs.

    A detected hair is a candidate for the true hair nearest to most of its points, if the
    median distance of those points to that hair is at most ``radius + tol_px``. Candidates are
    then assigned one-to-one, closest first. Detected hairs left unassigned (spurious
    detections and extra fragments of a hair) are false positives; unmatched true hairs visible over ``min_visible_um`` are misses.
    """
    spec = truth.spec
    um = spec.um_per_px
    pts, ids = [], []
    for h in truth.hairs:
        q = _densify(np.asarray(h.polyline), 1.0)
        pts.append(q)
        ids.append(np.full(len(q), h.id))
    visible = {
        h.id
        for h in truth.hairs
        if visible_length_px(np.asarray(h.polyline), spec.width, spec.height) * um >= min_visible_um
    }
    if not pts or not len(detected):
        return MatchReport((), len(detected), len(visible), 0, len(detected))
    tree = cKDTree(np.concatenate(pts))
    all_ids = np.concatenate(ids)
    cands = []
    has_cand = np.zeros(len(detected), bool)
    for di, poly in enumerate(detected):
        p = np.asarray(poly, dtype=float)
        if p.ndim != 2 or len(p) == 0:
            continue
        q = _densify(p, 2.0) if len(p) > 1 else p
        dist, j = tree.query(q)
        tid = all_ids[j]
        vals, cnt = np.unique(tid, return_counts=True)
        order = np.argsort(-cnt)
        for k in order[:3]:
            best = int(vals[k])
            if cnt[k] < 0.4 * len(tid):
                break
            md = float(np.median(dist[tid == best]))
            r = truth.hairs[best].diameter_um / um / 2.0
            if md <= r + tol_px:
                cands.append((md - cnt[k] / len(tid), di, best))
                has_cand[di] = True
    cands.sort()
    used_d: set[int] = set()
    used_t: set[int] = set()
    pairs = []
    for _, di, ti in cands:
        if di in used_d or ti in used_t:
            continue
        used_d.add(di)
        used_t.add(ti)
        pairs.append((di, ti))
    n_false = len(detected) - len(pairs)
    return MatchReport(
        pairs=tuple(pairs),
        n_detected=len(detected),
        n_truth=len(visible),
        n_truth_matched=sum(1 for _, t in pairs if t in visible),
        n_false=n_false,
    )
