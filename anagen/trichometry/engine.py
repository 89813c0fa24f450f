"""Hair detection and measurement on trichoscopy images of clipped scalp hair.

Pipeline (see ``docs/trichometry.md``), one private module per stage:

1. ``_contrast``: colour contrast. A hair-free background estimated at coarse scale is
   subtracted and the colour difference noise-whitened (a Mahalanobis distance to the skin
   colour), so dark, light, grey and blond hairs on any skin tone are all positive;
2. ``_mask``: hysteresis threshold at detection scale (~12 um/px) restricted to half the
   local maximum;
3. ``_graph``, ``_paths``, ``_fragments``: skeleton graph; spurs pruned, junction clusters
   merged, the two junctions of a shallow crossing contracted into one, branches paired by
   good continuation so that crossings split into two hairs and follicular units (Y shapes)
   into one hair per branch; sharp corners split V shapes; fragments of one hair joined; ends
   of hairs cut by the image border carried to the border;
4. ``_diameters``: diameters from intensity profiles sampled perpendicular to the centreline
   on the full-resolution image: full width at half contrast with sub-pixel interpolation,
   deconvolved for the measured edge blur, robust median along the hair; a path whose width
   grows steadily from one end to the other (two hairs of a unit that never part) becomes two;
5. counting frame (``anagen.trichometry.frame``) for an unbiased count and density, and
   ``_units``: follicular units;
6. ``_quality``: quality flags.

Every threshold is a field of :class:`anagen.trichometry._params.Params`; the detection and
full-resolution pixel grids are mapped by ``anagen.trichometry._geometry``.
"""

from __future__ import annotations

import math
import os
import time

import cv2
import numpy as np
from skimage.morphology import skeletonize

from anagen.trichometry._contrast import contrast_image
from anagen.trichometry._diameters import measure_diameters
from anagen.trichometry._fragments import _reach_border, hair_polylines
from anagen.trichometry._geometry import polyline_length
from anagen.trichometry._graph import _graph_at, _neighbours, build_graph
from anagen.trichometry._mask import hair_mask
from anagen.trichometry._params import DEFAULT_PARAMS, Params
from anagen.trichometry._paths import hair_paths
from anagen.trichometry._quality import quality_flags
from anagen.trichometry._result import ALGORITHM_VERSION, Hair, QualityFlag, TrichometryResult
from anagen.trichometry._units import group_units
from anagen.trichometry.frame import CountingFrame, designated_end
from anagen.trichometry.io import as_rgb_array, check_calibration, load_image

# the tests reach a few stage internals through this module
_build_graph = build_graph

__all__ = [
    "ALGORITHM_VERSION",
    "DEFAULT_VELLUS_MAX_UM",
    "Hair",
    "QualityFlag",
    "TrichometryResult",
    "_build_graph",
    "_graph_at",
    "_neighbours",
    "_reach_border",
    "analyze",
    "analyze_with_contrast",
    "contrast_image",
]

DEFAULT_VELLUS_MAX_UM = 40.0
_HISTOGRAM_BIN_UM = 10


def analyze(
    image: np.ndarray | str | os.PathLike[str],
    um_per_px: float,
    vellus_max_um: float = DEFAULT_VELLUS_MAX_UM,
    frame_margin_px: float | None = None,
    min_hairs: int = 10,
) -> TrichometryResult:
    """Detect and measure every hair in a trichoscopy image of clipped hair.

    Parameters
    ----------
    image : ndarray or str or os.PathLike
        (H, W, 3) RGB or (H, W) grey array, or a path (decoded with :func:`load_image`).
    um_per_px : float
        Calibration in micrometres per pixel (required).
    vellus_max_um : float, optional
        Hairs with diameter <= this are vellus, others terminal.
    frame_margin_px : float, optional
        Inset of the counting frame; default ``max(8, 1 % of the short side)``.
    min_hairs : int, optional
        Below this count the ``too_few_hairs`` quality flag is raised.

    Returns
    -------
    TrichometryResult

    Raises
    ------
    ImageError
        For unreadable images or missing/invalid calibration.
    """
    result, _, _ = analyze_with_contrast(
        image, um_per_px, vellus_max_um, frame_margin_px, min_hairs
    )
    return result


def analyze_with_contrast(
    image: np.ndarray | str | os.PathLike[str],
    um_per_px: float,
    vellus_max_um: float = DEFAULT_VELLUS_MAX_UM,
    frame_margin_px: float | None = None,
    min_hairs: int = 10,
) -> tuple[TrichometryResult, np.ndarray, int]:
    """:func:`analyze`, also returning its detection-scale contrast image.

    Parameters
    ----------
    image, um_per_px, vellus_max_um, frame_margin_px, min_hairs
        As for :func:`analyze`.

    Returns
    -------
    result : TrichometryResult
    contrast : ndarray of float32, shape (h, w)
        Hair contrast in noise units at detection scale (see ``_contrast``).
    scale : int
        Down-sampling factor of the detection scale.
    """
    params = DEFAULT_PARAMS
    t0 = time.perf_counter()
    um = check_calibration(um_per_px)
    rgb = load_image(image) if isinstance(image, (str, os.PathLike)) else as_rgb_array(image)
    H, W = rgb.shape[:2]
    t_load = time.perf_counter()
    # 1. contrast, 2. mask (detection scale)
    small, contrast, background, diff, scale = contrast_image(rgb, um, params)
    det_um = um * scale
    thresholded = hair_mask(contrast, det_um, params)
    t_mask = time.perf_counter()
    # 3. skeleton graph -> one path per hair -> full-resolution polylines
    paths, dist = _skeleton_paths(thresholded.mask, det_um, params)
    t_paths = time.perf_counter()
    polys, radii = hair_polylines(
        paths, dist, thresholded.above_low, thresholded.mask, scale, um, (W, H), params
    )
    t_polylines = time.perf_counter()
    # 4. diameters
    measured = measure_diameters(rgb, background, diff, scale, polys, radii, params)
    t_profiles = time.perf_counter()
    # 5. counting frame, follicular units, statistics
    frame = (
        CountingFrame.for_shape((H, W))
        if frame_margin_px is None
        else CountingFrame.for_shape((H, W), frame_margin_px)
    )
    hairs = _hairs(measured.polylines, measured.diameter_px, um, vellus_max_um, frame)
    hairs, units = group_units(hairs, um, params)
    counted = [h for h in hairs if h.counted]
    # 6. quality flags
    quality = quality_flags(
        small,
        counted,
        measured.blur_px * um,
        thresholded.hair_contrast,
        min_hairs,
        measured.limit_px * um,
        params,
    )
    t_end = time.perf_counter()
    result = _result(
        hairs,
        counted,
        units,
        quality,
        frame,
        um,
        vellus_max_um,
        (H, W),
        timings_ms={
            "load": 1e3 * (t_load - t0),
            "mask": 1e3 * (t_mask - t_load),
            "skeleton": 1e3 * (t_paths - t_mask),
            "paths": 1e3 * (t_polylines - t_paths),
            "profiles": 1e3 * (t_profiles - t_polylines),
            "total": 1e3 * (t_end - t0),
        },
    )
    return result, contrast, scale


def _skeleton_paths(
    mask: np.ndarray, det_um: float, params: Params
) -> tuple[list[np.ndarray], np.ndarray]:
    """Detection-scale hair paths through the skeleton of the mask.

    Parameters
    ----------
    mask : ndarray of bool, shape (h, w)
    det_um : float
        Detection-scale calibration, micrometres per pixel.
    params : Params

    Returns
    -------
    paths : list of ndarray of float, shape (n, 2)
        ``(y, x)`` paths, one per hair (fragments not yet joined).
    dist : ndarray of float32, shape (h, w)
        Distance to the background inside the mask (the local radius), px.
    """
    skel = skeletonize(mask)
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    edges, centroids = build_graph(skel, params.merge_um / det_um)
    return hair_paths(edges, centroids, dist, det_um, params), dist


def _hairs(
    polys: list[np.ndarray],
    diameter_px: np.ndarray,
    um_per_px: float,
    vellus_max_um: float,
    frame: CountingFrame,
) -> list[Hair]:
    """Hairs with a measured diameter, classified and judged by the counting frame.

    Parameters
    ----------
    polys : list of ndarray of float, shape (n, 2)
        Full-resolution ``(x, y)`` centrelines.
    diameter_px : ndarray of float
        Diameter of each, px (NaN: not measured, the candidate is dropped).
    um_per_px : float
    vellus_max_um : float
    frame : CountingFrame

    Returns
    -------
    list of Hair
        ``unit_id`` is -1 (set by :func:`anagen.trichometry._units.group_units`).
    """
    hairs: list[Hair] = []
    for poly, diameter in zip(polys, diameter_px, strict=False):
        if not np.isfinite(diameter):
            continue
        diameter_um = diameter * um_per_px
        x, y = designated_end(poly)
        hairs.append(
            Hair(
                id=len(hairs),
                polyline=tuple(map(tuple, np.round(poly, 2).tolist())),
                length_um=polyline_length(poly) * um_per_px,
                diameter_um=float(diameter_um),
                kind="vellus" if diameter_um <= vellus_max_um else "terminal",
                counted=frame.contains(x, y),
                unit_id=-1,
            )
        )
    return hairs


def _result(
    hairs: list[Hair],
    counted: list[Hair],
    units: tuple[tuple[int, ...], ...],
    quality: tuple[QualityFlag, ...],
    frame: CountingFrame,
    um_per_px: float,
    vellus_max_um: float,
    shape: tuple[int, int],
    timings_ms: dict[str, float],
) -> TrichometryResult:
    """Counts, density and diameter statistics of the counted hairs.

    Parameters
    ----------
    hairs, counted : list of Hair
        All hairs, and those the counting frame counts.
    units : tuple of tuple of int
    quality : tuple of QualityFlag
    frame : CountingFrame
    um_per_px, vellus_max_um : float
    shape : tuple of int
        Image ``(height, width)``.
    timings_ms : dict
        Stage timings, milliseconds.

    Returns
    -------
    TrichometryResult
    """
    area_cm2 = frame.area_px * (um_per_px * 1e-4) ** 2
    dia = np.array([h.diameter_um for h in counted])
    hist = []
    if len(dia):
        top = math.ceil(max(dia.max(), _HISTOGRAM_BIN_UM) / _HISTOGRAM_BIN_UM) * _HISTOGRAM_BIN_UM
        edges = np.arange(0, top + _HISTOGRAM_BIN_UM, _HISTOGRAM_BIN_UM)
        cnt, _ = np.histogram(dia, bins=edges)
        hist = [
            (float(a), float(a + _HISTOGRAM_BIN_UM), int(c))
            for a, c in zip(edges[:-1], cnt, strict=False)
        ]
    return TrichometryResult(
        hairs=tuple(hairs),
        hair_count=len(counted),
        area_cm2=area_cm2,
        density_per_cm2=len(counted) / area_cm2 if area_cm2 > 0 else 0.0,
        terminal_count=sum(1 for h in counted if h.kind == "terminal"),
        vellus_count=sum(1 for h in counted if h.kind == "vellus"),
        vellus_max_um=float(vellus_max_um),
        mean_diameter_um=float(dia.mean()) if len(dia) else None,
        median_diameter_um=float(np.median(dia)) if len(dia) else None,
        diameters_um=tuple(float(x) for x in dia),
        diameter_histogram=tuple(hist),
        cumulative_thickness_mm_per_cm2=float(dia.sum() / 1000.0 / area_cm2) if area_cm2 else 0.0,
        follicular_units=units,
        quality=quality,
        um_per_px=um_per_px,
        image_shape=shape,
        frame=frame,
        timings_ms=timings_ms,
    )
