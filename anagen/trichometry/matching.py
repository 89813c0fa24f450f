"""One-to-one matching of the hairs of two registered images of one site.

A hair persists between visits when its follicle still carries a shaft: the shaft leaves the
same exit point in the same direction, whatever length it was clipped to. Two centrelines are
therefore compared by **overlap**: the share of the shorter one (sampled every 2 px) that runs
within a tolerance of the other, after registration. A re-clipped hair lies along its former
self from the exit point on; two hairs of one follicular unit part at 10-30 degrees and
overlap only near the ostium; crossing hairs overlap over a few pixels. The assignment is the
Hungarian algorithm on ``1 - overlap`` with a gate, plus a small cost for exit points (the
nearest pair of ends) farther apart.

Hairs left over are checked against the other image before they are called lost or new:
a left-over hair still covered by the other image's detected hairs (a hair the detector cut
into two, or merged with a neighbour, on one visit only) or whose path still shows hair
contrast in the other image (missed by the detector there) is the same hair, not a change.
:mod:`anagen.trichometry.change` then pairs the lost and new hairs left that still overlap
(a lower gate, the same assignment).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from anagen.trichometry._geometry import to_detection

__all__ = [
    "HairMatch",
    "contrast_along",
    "densify",
    "match_centrelines",
    "union_cover",
]

Points = npt.NDArray[np.float64]


@dataclass(frozen=True)
class HairMatch:
    """Pairs of matched hairs (indices into each list) and their confidence (0-1)."""

    pairs: tuple[tuple[int, int], ...]
    confidence: tuple[float, ...]


def densify(poly: npt.ArrayLike, step: float = 2.0) -> Points:
    """Points every ``step`` px along a polyline (its ends included)."""
    p = np.asarray(poly, dtype=float).reshape(-1, 2)
    if len(p) < 2:
        return p
    seg = np.hypot(*np.diff(p, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    n = max(2, int(np.ceil(s[-1] / step)) + 1)
    t = np.linspace(0.0, s[-1], n)
    return np.stack([np.interp(t, s, p[:, 0]), np.interp(t, s, p[:, 1])], 1)


def _cover(a: Points, b: cKDTree, tol: float) -> float:
    """Share of the points of ``a`` within ``tol`` of the points in the tree ``b``."""
    if not len(a):
        return 0.0
    d, _ = b.query(a, distance_upper_bound=tol)
    return float(np.mean(np.isfinite(d)))


def _end_gap(a: Points, b: Points) -> float:
    """Distance of the nearest pair of ends of two sampled centrelines."""
    ea, eb = a[[0, -1]], b[[0, -1]]
    return float(np.sqrt(((ea[:, None, :] - eb[None, :, :]) ** 2).sum(-1)).min())


def match_centrelines(
    first: list[Points],
    second: list[Points],
    tol_px: float,
    min_overlap: float = 0.55,
    end_scale_px: float = 20.0,
) -> HairMatch:
    """Match sampled centrelines of two images one to one (both in the first's coordinates).

    Parameters
    ----------
    first, second : list of ndarray, shape (n, 2)
        Centrelines sampled every ~2 px (:func:`densify`), the second mapped into the first
        image's coordinates.
    tol_px : float
        Distance within which two centrelines run together.
    min_overlap : float, optional
        Gate: the shorter centreline must lie along the other over at least this share.
    end_scale_px : float, optional
        Exit points this far apart cost as much as 10 % less overlap.

    Returns
    -------
    HairMatch
        Confidence of a pair is its overlap, lowered by the distance of its nearest ends.
    """
    if not first or not second:
        return HairMatch((), ())
    pts = np.concatenate(second)
    owner = np.concatenate([np.full(len(s), k) for k, s in enumerate(second)])
    tree = cKDTree(pts)
    big = 1e3
    cost = np.full((len(first), len(second)), big)
    conf = np.zeros_like(cost)
    trees_1: dict[int, cKDTree] = {}
    trees_2: dict[int, cKDTree] = {}
    for i, a in enumerate(first):
        _, near = tree.query(a, k=8, distance_upper_bound=tol_px)
        hit = near[near < len(pts)]
        for j in np.unique(owner[hit]).tolist():
            b = second[j]
            if len(a) <= len(b):
                ov = _cover(a, trees_2.get(j) or trees_2.setdefault(j, cKDTree(b)), tol_px)
            else:
                ov = _cover(b, trees_1.get(i) or trees_1.setdefault(i, cKDTree(a)), tol_px)
            if ov < min_overlap:
                continue
            gap = _end_gap(a, b)
            c = (1.0 - ov) + 0.1 * min(gap / end_scale_px, 3.0)
            cost[i, j] = c
            conf[i, j] = max(0.0, min(1.0, ov * float(np.exp(-gap / (4 * end_scale_px)))))
    rows, cols = linear_sum_assignment(cost)
    keep = cost[rows, cols] < big
    pairs = tuple((int(r), int(c)) for r, c in zip(rows[keep], cols[keep], strict=True))
    return HairMatch(pairs, tuple(float(conf[r, c]) for r, c in pairs))


def union_cover(hair: Points, others: cKDTree | None, tol_px: float) -> float:
    """Share of ``hair`` lying within ``tol_px`` of the points of all other hairs (a tree)."""
    if others is None or not len(hair):
        return 0.0
    d, _ = others.query(hair, distance_upper_bound=tol_px)
    return float(np.mean(np.isfinite(d)))


def contrast_along(contrast: npt.NDArray[np.float32], scale: int, pts: Points) -> Points:
    """Detection-scale contrast sampled at full-resolution points (bilinear)."""
    x = to_detection(pts[:, 0], scale).astype(np.float32)[None, :]
    y = to_detection(pts[:, 1], scale).astype(np.float32)[None, :]
    row = cv2.remap(contrast, x, y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)[0]
    return np.asarray(row, dtype=float)
