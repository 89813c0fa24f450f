"""Stage 3c: full-resolution hair polylines from the detection-scale paths.

Paths are mapped to full resolution and smoothed, collinear fragments of one hair joined,
free ends extended to the tips and ends cut by the image border carried to the border;
short or stubby candidates are dropped.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from anagen.trichometry._geometry import (
    end_tangent,
    group_median,
    polyline_length,
    smooth_resample,
    to_detection,
    to_full,
)
from anagen.trichometry._params import DEFAULT_PARAMS, Params


def hair_polylines(
    paths: list[np.ndarray],
    dist: np.ndarray,
    above_low: np.ndarray,
    mask: np.ndarray,
    scale: int,
    um_per_px: float,
    size: tuple[int, int],
    params: Params,
) -> tuple[list[np.ndarray], list[float]]:
    """Full-resolution polylines and radii of the hairs.

    Parameters
    ----------
    paths : list of ndarray of float, shape (n, 2)
        Detection-scale hair paths ``(y, x)``.
    dist : ndarray of float32, shape (h, w)
        Local radius inside the mask, detection-scale px.
    above_low : ndarray of bool, shape (h, w)
        Contrast above the low threshold (may bridge gaps between fragments).
    mask : ndarray of bool, shape (h, w)
        Hair mask.
    scale : int
        Down-sampling factor.
    um_per_px : float
        Full-resolution calibration.
    size : tuple of int
        Full-resolution image ``(width, height)``.
    params : Params

    Returns
    -------
    polylines : list of ndarray of float, shape (m, 2)
        Full-resolution ``(x, y)`` centrelines.
    radii : list of float
        Median mask radius of each hair, full-resolution px.
    """
    polys, radii = _candidates(paths, dist, scale, params.resample_step_px)
    polys, radii = _merge_fragments(
        polys,
        radii,
        params.merge_gap_um / um_per_px,
        cos_min=params.merge_cos,
        support=above_low,
        radius_ratio=params.merge_radius_ratio,
        scale=scale,
        max_covered_gap=params.covered_gap_um / um_per_px,
    )
    W, H = size
    min_length = params.min_length_um / um_per_px
    min_border_length = params.min_border_length_um / um_per_px
    margin = params.border_margin_scales * scale
    kept_polys, kept_radii = [], []
    for poly, radius in zip(polys, radii, strict=False):
        raw_length = polyline_length(poly)
        _extend_tips(poly, min(radius * params.tip_ext_radii, 0.25 * raw_length))
        poly = _reach_border(poly, radius, mask, scale, size, params)
        poly[:, 0] = np.clip(poly[:, 0], 0, W - 1)
        poly[:, 1] = np.clip(poly[:, 1], 0, H - 1)
        at_border = (
            poly[:, 0].min() <= margin
            or poly[:, 1].min() <= margin
            or poly[:, 0].max() >= W - 1 - margin
            or poly[:, 1].max() >= H - 1 - margin
        )
        # lengths before the tip extension: the extension must not promote stubs
        if raw_length < (min_border_length if at_border else min_length):
            continue
        if not at_border and raw_length < params.min_elongation * 2 * radius:
            continue
        kept_polys.append(poly)
        kept_radii.append(radius)
    return kept_polys, kept_radii


def _candidates(
    paths: list[np.ndarray], dist: np.ndarray, scale: int, step: float
) -> tuple[list[np.ndarray], list[float]]:
    """Smoothed full-resolution polylines of detection-scale paths, with their radii.

    Parameters
    ----------
    paths : list of ndarray of float, shape (n, 2)
        Detection-scale ``(y, x)`` paths; those of a single point are dropped.
    dist : ndarray of float32, shape (h, w)
        Local radius, detection-scale px.
    scale : int
        Down-sampling factor.
    step : float
        Point spacing of the polylines, full-resolution px.

    Returns
    -------
    polylines : list of ndarray of float, shape (m, 2)
        ``(x, y)`` at full resolution.
    radii : list of float
        Median radius along each path, full-resolution px (at least 1).
    """
    paths = [p for p in paths if len(p) >= 2]
    if not paths:
        return [], []
    allp = np.concatenate(paths)
    path_id = np.repeat(np.arange(len(paths)), [len(p) for p in paths])
    iy = np.clip(allp[:, 0].astype(int), 0, dist.shape[0] - 1)
    ix = np.clip(allp[:, 1].astype(int), 0, dist.shape[1] - 1)
    median_radius = group_median(dist[iy, ix].astype(np.float64), path_id, len(paths))
    polys, radii = [], []
    for k, p in enumerate(paths):
        radii.append(max(float(median_radius[k]) * scale, 1.0))
        xy = np.stack([to_full(p[:, 1], scale), to_full(p[:, 0], scale)], 1)
        polys.append(smooth_resample(xy, step))
    return polys, radii


def _extend_tips(poly: np.ndarray, ext: float) -> None:
    """Move both end points of ``poly`` outwards by ``ext`` px, in place.

    Skeletons stop about a radius short of a hair's tips.

    Parameters
    ----------
    poly : ndarray of float, shape (n, 2)
    ext : float
    """
    for end in (0, -1):
        other = poly[min(3, len(poly) - 1)] if end == 0 else poly[max(-4, -len(poly))]
        v = poly[end] - other
        nv = float(np.hypot(*v))
        if nv > 0:
            poly[end] = poly[end] + v / nv * ext


def _reach_border(
    poly: np.ndarray,
    r_loc: float,
    mask: np.ndarray,
    scale: int,
    size: tuple[int, int],
    params: Params = DEFAULT_PARAMS,
) -> np.ndarray:
    """Carry an end of a hair cut by the image border out to the border.

    The skeleton of a shaft cut by the border can stop a radius or more short of it, which puts
    the end of a hair that leaves the image inside the counting frame. When the hair's mask
    reaches the border straight ahead of an end, the end is continued along the hair's
    direction to the border.

    Parameters
    ----------
    poly : ndarray of float, shape (n, 2)
        Full-resolution ``(x, y)`` polyline.
    r_loc : float
        Hair radius, full-resolution px.
    mask : ndarray of bool, shape (h, w)
        Detection-scale hair mask.
    scale : int
        Down-sampling factor.
    size : tuple of int
        Full-resolution image ``(width, height)``.
    params : Params, optional

    Returns
    -------
    ndarray of float, shape (m, 2)
        ``poly`` with a border point prepended and/or appended where the hair reaches it.
    """
    W, H = size
    h, w = mask.shape
    limit = params.border_radii * r_loc + params.border_scales * scale
    out = poly
    length = None
    for end in (0, -1):
        p = poly[end]
        if min(p[0], p[1], W - 1 - p[0], H - 1 - p[1]) > limit:
            continue  # the border is out of reach whatever the direction
        if length is None:
            length = polyline_length(poly)
        u = end_tangent(poly, end, max(2.0, min(6.0 * r_loc, 0.3 * length)))
        ts = []
        for k, hi in ((0, W - 1), (1, H - 1)):
            if u[k] < -1e-6:
                ts.append(-p[k] / u[k])
            elif u[k] > 1e-6:
                ts.append((hi - p[k]) / u[k])
        if not ts or min(ts) > limit:
            continue
        b = p + min(ts) * u
        bx = int(np.clip(round(to_detection(b[0], scale)), 0, w - 1))
        by = int(np.clip(round(to_detection(b[1], scale)), 0, h - 1))
        if not mask[max(by - 1, 0) : by + 2, max(bx - 1, 0) : bx + 2].any():
            continue
        out = np.concatenate([b[None, :], out]) if end == 0 else np.concatenate([out, b[None, :]])
    return out


def _merge_fragments(
    polys: list[np.ndarray],
    radii: list[float],
    max_gap: float,
    cos_min: float = 0.9,
    support: np.ndarray | None = None,
    radius_ratio: float = 1.7,
    scale: int = 1,
    max_covered_gap: float = 0.0,
) -> tuple[list[np.ndarray], list[float]]:
    """Join collinear fragments of one hair whose ends face each other across a gap.

    Gaps up to ``max_gap`` (plus the radii) are joined on geometry alone. Longer gaps, up to
    ``max_covered_gap``, are joined when the straight segment between the ends runs over hair
    contrast all the way (``support``: a detection-scale mask of above-threshold contrast):
    a faint hair that passes under a strong one loses its pixels next to the strong one to
    the local-maximum rule, and a specular highlight can cut a shaft, yet the contrast is there.

    Parameters
    ----------
    polys : list of ndarray of float, shape (n, 2)
        Full-resolution ``(x, y)`` fragments.
    radii : list of float
        Radius of each fragment, px.
    max_gap : float
        Longest gap joined on geometry alone (plus three radii), px.
    cos_min : float, optional
        Both end tangents must point at the other end, and against each other, within this
        cosine.
    support : ndarray of bool, shape (h, w), optional
        Detection-scale contrast mask that may bridge longer gaps.
    radius_ratio : float, optional
        Largest ratio of the two radii (plus ``scale`` px: radii come from the detection scale).
    scale : int, optional
        Down-sampling factor of ``support``.
    max_covered_gap : float, optional
        Longest gap joined over ``support``, px.

    Returns
    -------
    polylines : list of ndarray of float, shape (m, 2)
    radii : list of float
        Length-weighted mean radius of each joined chain.
    """
    n = len(polys)
    if n < 2:
        return list(polys), list(radii)
    lengths = [polyline_length(p) for p in polys]
    ends = np.array([[p[0], p[-1]] for p in polys]).reshape(-1, 2)
    tang = np.array(
        [
            [end_tangent(p, 0, min(20.0, 0.5 * ln)), end_tangent(p, -1, min(20.0, 0.5 * ln))]
            for p, ln in zip(polys, lengths, strict=False)
        ]
    ).reshape(-1, 2)
    rmax = max(radii)
    reach = max(max_gap + 3 * rmax, max_covered_gap if support is not None else 0.0)
    pairs = cKDTree(ends).query_pairs(reach, output_type="ndarray")
    if len(pairs) == 0:
        return list(polys), list(radii)
    a, b = pairs[:, 0], pairs[:, 1]
    r = np.asarray(radii, dtype=float)
    ri, rj = r[a // 2], r[b // 2]
    g = ends[b] - ends[a]
    gap = np.hypot(g[:, 0], g[:, 1])
    c = (tang[a] * tang[b]).sum(axis=1)
    gu = g / np.maximum(gap, 1e-9)[:, None]
    facing = ((gu * tang[a]).sum(axis=1) >= cos_min) & ((-gu * tang[b]).sum(axis=1) >= cos_min)
    ok = (
        (a // 2 != b // 2)
        & (np.maximum(ri, rj) <= radius_ratio * np.minimum(ri, rj) + scale)  # +-1 detection px
        & (c <= -cos_min)
        & ((gap <= 2.0) | facing)
    )
    short = gap <= max_gap + 3 * np.maximum(ri, rj)
    long_ = ok & ~short & (gap <= max_covered_gap)
    ok &= short
    for k in np.nonzero(long_)[0]:  # the contrast test only for the few that pass the geometry
        ok[k] = _supported(ends[a[k]], ends[b[k]], support, scale)
    key = (gap + 20.0 * c)[ok]
    cands = sorted(zip(key.tolist(), a[ok].tolist(), b[ok].tolist(), strict=True))
    if not cands:
        return list(polys), list(radii)
    link: dict[int, int] = {}
    comp = list(range(n))  # union-find over fragments to avoid cycles

    def find(i: int) -> int:
        while comp[i] != i:
            comp[i] = comp[comp[i]]
            i = comp[i]
        return i

    for _, a, b in cands:
        if a in link or b in link:
            continue
        ra, rb = find(a // 2), find(b // 2)
        if ra == rb:
            continue
        link[a] = b
        link[b] = a
        comp[ra] = rb
    out_p, out_r, seen = [], [], set()
    for i in range(n):
        if i in seen:
            continue
        # walk to one end of the chain
        start, end_id = i, 2 * i
        visited = {i}
        while end_id in link:
            nxt = link[end_id] // 2
            if nxt in visited:
                break
            visited.add(nxt)
            end_id = link[end_id] ^ 1
            start = nxt
        # now walk forward from ``start`` through its free end ``end_id``
        parts, rs, cur, entry = [], [], start, end_id
        while True:
            seen.add(cur)
            p = polys[cur] if entry == 2 * cur else polys[cur][::-1]
            parts.append(p)
            rs.append((radii[cur], len(p)))
            exit_end = entry ^ 1
            if exit_end not in link:
                break
            nxt_end = link[exit_end]
            cur, entry = nxt_end // 2, nxt_end
            if cur in seen:
                break
        if len(parts) == 1:
            out_p.append(parts[0])
        else:
            out_p.append(smooth_resample(np.concatenate(parts), 2.0))
        out_r.append(sum(r * k for r, k in rs) / sum(k for _, k in rs))
    return out_p, out_r


def _supported(a: np.ndarray, b: np.ndarray, support: np.ndarray | None, scale: int) -> bool:
    """True if the segment from ``a`` to ``b`` (full-resolution x, y) lies on ``support``."""
    if support is None:
        return False
    n = max(2, int(np.hypot(*(b - a)) / scale) + 1)
    t = np.linspace(0.0, 1.0, n)[:, None]
    q = to_detection(a + t * (b - a), scale)
    h, w = support.shape
    ix = np.clip(np.rint(q[:, 0]).astype(int), 0, w - 1)
    iy = np.clip(np.rint(q[:, 1]).astype(int), 0, h - 1)
    return bool(support[iy, ix].all())
