"""Stage 5b: follicular units, hairs that share one ostium."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.spatial import cKDTree

from anagen.trichometry._params import Params
from anagen.trichometry._result import Hair


def group_units(
    hairs: list[Hair], um_per_px: float, params: Params
) -> tuple[list[Hair], tuple[tuple[int, ...], ...]]:
    """Group hairs that share an ostium into follicular units.

    Two hairs share one when their ends meet, or when the end of one touches the other
    close to that hair's end (Y-shaped units).

    Parameters
    ----------
    hairs : list of Hair
        With ``id`` equal to their index.
    um_per_px : float
        Full-resolution calibration.
    params : Params

    Returns
    -------
    hairs : list of Hair
        The same hairs with ``unit_id`` set (-1 for a hair on its own).
    units : tuple of tuple of int
        Hair ids of each unit of two or more hairs.
    """
    n = len(hairs)
    if n == 0:
        return hairs, ()
    ends = np.array([[h.polyline[0], h.polyline[-1]] for h in hairs]).reshape(-1, 2)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb

    tol = params.unit_end_um / um_per_px
    for i, j in cKDTree(ends).query_pairs(tol):
        if i // 2 != j // 2:
            union(i // 2, j // 2)
    # an end touching another hair close to that hair's end (Y-shaped units)
    pts, own, pos = [], [], []
    for k, h in enumerate(hairs):
        p = np.asarray(h.polyline)
        seg = np.hypot(*np.diff(p, axis=0).T)
        s = np.concatenate([[0.0], np.cumsum(seg)])
        pts.append(p)
        own.append(np.full(len(p), k))
        pos.append(np.minimum(s, s[-1] - s))
    tree = cKDTree(np.concatenate(pts))
    own_a, pos_a = np.concatenate(own), np.concatenate(pos)
    near_end = params.unit_near_end_um / um_per_px
    for e, hits in enumerate(tree.query_ball_point(ends, params.unit_touch_um / um_per_px)):
        for q in hits:
            if own_a[q] != e // 2 and pos_a[q] <= near_end:
                union(e // 2, int(own_a[q]))
    roots: dict[int, list[int]] = {}
    for i in range(n):
        roots.setdefault(find(i), []).append(i)
    units: list[tuple[int, ...]] = []
    unit_of: dict[int, int] = {}
    for members in roots.values():
        if len(members) >= 2:
            uid = len(units)
            units.append(tuple(members))
            for m in members:
                unit_of[m] = uid
    out = [replace(h, unit_id=unit_of.get(h.id, -1)) for h in hairs]
    return out, tuple(units)
