"""Pixel mapping between the two scales, and small polyline helpers.

Hairs are detected on an image down-sampled by an integer ``scale`` (area averaging) and
measured at full resolution. Detection pixel ``i`` averages full-resolution pixels
``i * scale .. i * scale + scale - 1``, so its centre is at ``i * scale + (scale - 1) / 2``:
the mapping is affine with that half-pixel offset, written once here.
"""

from __future__ import annotations

import math
from typing import Any, overload

import numpy as np
import numpy.typing as npt


def pixel_offset(scale: float) -> float:
    """Full-resolution coordinate of the centre of detection pixel 0.

    Parameters
    ----------
    scale : float
        Down-sampling factor (full-resolution pixels per detection pixel).

    Returns
    -------
    float
        ``(scale - 1) / 2``.
    """
    return (scale - 1) / 2.0


@overload
def to_detection(coords: float, scale: float) -> float: ...
@overload
def to_detection(coords: npt.NDArray[Any], scale: float) -> npt.NDArray[np.floating[Any]]: ...
def to_detection(
    coords: float | npt.NDArray[Any], scale: float
) -> float | npt.NDArray[np.floating[Any]]:
    """Full-resolution coordinates to detection-scale coordinates.

    Parameters
    ----------
    coords : float or ndarray
        Coordinates (x or y, any shape) at full resolution.
    scale : float
        Down-sampling factor.

    Returns
    -------
    float or ndarray
        ``(coords - (scale - 1) / 2) / scale``, same type and dtype as ``coords``.
    """
    return (coords - pixel_offset(scale)) / scale


@overload
def to_full(coords: float, scale: float) -> float: ...
@overload
def to_full(coords: npt.NDArray[Any], scale: float) -> npt.NDArray[np.floating[Any]]: ...
def to_full(
    coords: float | npt.NDArray[Any], scale: float
) -> float | npt.NDArray[np.floating[Any]]:
    """Detection-scale coordinates to full-resolution coordinates (inverse of
    :func:`to_detection`).

    Parameters
    ----------
    coords : float or ndarray
        Coordinates (x or y, any shape) at detection scale.
    scale : float
        Down-sampling factor.

    Returns
    -------
    float or ndarray
        ``coords * scale + (scale - 1) / 2``.
    """
    return coords * scale + pixel_offset(scale)


def polyline_length(poly: np.ndarray) -> float:
    """Length of an ``(n, 2)`` polyline.

    Parameters
    ----------
    poly : ndarray of float, shape (n, 2)

    Returns
    -------
    float
    """
    return float(np.hypot(*np.diff(poly, axis=0).T).sum())


def end_tangent(poly: np.ndarray, end: int, reach: float) -> np.ndarray:
    """Outward unit tangent at one end of a polyline.

    Parameters
    ----------
    poly : ndarray of float, shape (n, 2)
    end : int
        0 for the first point, -1 for the last.
    reach : float
        Length (px) over which the direction is taken.

    Returns
    -------
    ndarray of float, shape (2,)
        Unit vector pointing out of the polyline, zero for a degenerate one.
    """
    pts = poly if end == 0 else poly[::-1]
    d = np.hypot(*(pts - pts[0]).T)
    k = int(np.searchsorted(d, reach))
    k = min(max(k, 1), len(pts) - 1)
    v = pts[0] - pts[k]
    n = float(np.hypot(*v))
    return v / n if n > 0 else np.zeros(2)


def smooth_resample(path: npt.ArrayLike, step: float) -> npt.NDArray[np.float64]:
    """Smooth a path (5-point moving average) and resample it every ``step`` px.

    Parameters
    ----------
    path : array_like of float, shape (n, 2)
    step : float
        Point spacing of the result, px.

    Returns
    -------
    ndarray of float, shape (m, 2)
        The smoothed path; its end points are those of ``path``.
    """
    xy = np.asarray(path, dtype=float)
    sm: npt.NDArray[np.float64]
    if len(xy) >= 5:
        pad = np.concatenate([xy[:1], xy[:1], xy, xy[-1:], xy[-1:]])
        c = np.cumsum(np.concatenate([np.zeros((1, 2)), pad]), axis=0)
        sm = (c[5:] - c[:-5]) / 5.0
        sm[0], sm[-1] = xy[0], xy[-1]
    else:
        sm = xy
    d = np.diff(sm, axis=0)
    seg = np.sqrt((d * d).sum(axis=1))
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 0:
        return sm[:1].repeat(2, 0)
    n = max(2, math.ceil(s[-1] / step) + 1)
    t = np.linspace(0, s[-1], n)
    return np.stack([np.interp(t, s, sm[:, 0]), np.interp(t, s, sm[:, 1])], 1)


def group_median(values: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    """Median of ``values`` per group, vectorised.

    Parameters
    ----------
    values : ndarray of float, shape (m,)
        Non-finite values are ignored.
    groups : ndarray of int, shape (m,)
        Group id ``0 .. n-1`` of each value.
    n : int
        Number of groups.

    Returns
    -------
    ndarray of float, shape (n,)
        NaN for groups without a finite value.
    """
    out = np.full(n, np.nan)
    ok = np.isfinite(values)
    values, groups = values[ok], groups[ok]
    if len(values) == 0:
        return out
    order = np.lexsort((values, groups))
    v, g = values[order], groups[order]
    counts = np.bincount(g, minlength=n)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    has = counts > 0
    lo = starts[has] + (counts[has] - 1) // 2
    hi = starts[has] + counts[has] // 2
    out[has] = 0.5 * (v[lo] + v[hi])
    return out
