"""Matched follow-up: hair-to-hair change between two visits of one target site.

The difference of two independent counts carries both counts' errors. Matching the same hairs
between the visits leaves only the hairs that really changed to be judged: a hair the engine
misses (or cuts in two) at both visits cancels out. Steps, each in its own module:

1. analysis of both images (:func:`anagen.trichometry.engine.analyze_with_contrast`);
2. registration (:mod:`anagen.trichometry.registration`): rotation ladder and phase correlation
   on the skin texture, refined by RANSAC and closest-point refits on hair ends, then once more
   on the exit points of the matched hairs;
3. matching (:mod:`anagen.trichometry.matching`): overlap of centrelines, Hungarian assignment
   with a gate; left-over hairs checked against the other image's hairs and contrast; second
   detections of one shaft not counted again, a lost and a new trace of one shaft paired;
4. the common field: both images' counting frames, inset by a guard band, intersected; a hair
   belongs to it by the midpoint of its centreline (one point per hair, so the counts are
   unbiased, as with the counting frame); persisting hairs by their baseline midpoint;
5. counts, density change and quality flags.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from anagen.trichometry._contrast import contrast_image
from anagen.trichometry._result import ALGORITHM_VERSION, QualityFlag, TrichometryResult
from anagen.trichometry.engine import analyze_with_contrast
from anagen.trichometry.io import as_rgb_array, check_calibration, load_image
from anagen.trichometry.matching import (
    contrast_along,
    densify,
    match_centrelines,
)
from anagen.trichometry.registration import (
    Registration,
    coarse_register,
    refine_on_points,
)

__all__ = [
    "CHANGE_VERSION",
    "ChangeError",
    "ChangeResult",
    "HairFate",
    "common_field",
    "count_change_at_least",
    "matched_change",
]

#: version of the matching step; results carry ``ALGORITHM_VERSION + "+" + CHANGE_VERSION``
CHANGE_VERSION = "match/1.1.0"
GUARD_UM = 250.0  # guard band inside both images (a counted hair is seen over >= 0.5 mm)
MIN_OVERLAP_FRACTION = 0.25  # less of the baseline field seen at follow-up: no comparison
MAX_RESIDUAL_PX = 2.0
MIN_MATCHED_POINTS = 6
MAX_ACCEPTED_RESIDUAL_PX = 6.0  # above this the registration is refused, not just flagged
MIN_PERSISTING_SHARE = 0.3  # fewer baseline hairs found again: not the same skin lined up
MIN_HAIRS_FOR_SHARE = 10
FREE_TOL = 1.0  # contrast counts only this many tolerances away from other hairs
STILL_LEVEL = 0.4  # share of its own contrast a left-over hair must still show on the other visit
DUP_UM = 18.0  # a left-over hair within this of a longer hair of its image over ...
REJOIN_OVERLAP = 0.3  # a lost and a new hair overlapping this much are one
DUP_SHARE = 0.8  # ... this share of its length is a second detection of that hair


class ChangeError(ValueError):
    """The two images cannot be compared (one line, naming both files)."""


@dataclass(frozen=True)
class HairFate:
    """What became of one hair between the visits.

    Attributes
    ----------
    status : str
        ``persisting``, ``lost`` (baseline only) or ``new`` (follow-up only).
    baseline_id, followup_id : int
        Hair ids in each analysis (-1: none).
    confidence : float
        0-1: overlap of the matched centrelines, or how clearly the other image shows no hair.
    in_field : bool
        The hair's midpoint lies in the common field (only these are counted).
    matched : bool
        False for a left-over hair judged persisting because the other image still shows it,
        or for a lost and a new trace of one shaft paired after the matching.
    duplicate_of : int
        For a left-over hair that runs along another hair of its own image over most of its
        length (the detector's second path through one shaft), that hair's id; it takes its
        status and is not counted again. -1 otherwise.

    Notes
    -----
    Only hairs with ``in_field`` and ``duplicate_of == -1`` are counted.
    """

    status: str
    baseline_id: int
    followup_id: int
    confidence: float
    in_field: bool
    matched: bool = True
    duplicate_of: int = -1

    @property
    def counted(self) -> bool:
        """In the common field and not a second detection of a hair already counted."""
        return self.in_field and self.duplicate_of < 0


@dataclass(frozen=True)
class ChangeResult:
    """Hair-to-hair change of one site between a baseline and a follow-up image."""

    baseline_count: int
    followup_count: int
    persisting: int
    lost: int
    new: int
    common_area_cm2: float
    overlap_fraction: float
    registration: Registration
    fates: tuple[HairFate, ...]
    field_polygon: tuple[tuple[float, float], ...]
    quality: tuple[QualityFlag, ...]
    baseline: TrichometryResult
    followup: TrichometryResult
    um_per_px: float
    timings_ms: dict[str, float] = field(default_factory=dict)
    algorithm_version: str = f"{ALGORITHM_VERSION}+{CHANGE_VERSION}"

    @property
    def count_change(self) -> int:
        """``new - lost`` in the common field."""
        return self.new - self.lost

    @property
    def density_change_per_cm2(self) -> float:
        return self.count_change / self.common_area_cm2 if self.common_area_cm2 > 0 else 0.0

    @property
    def quality_ok(self) -> bool:
        return all(f.ok for f in self.quality)

    def to_dict(self, include_hairs: bool = False) -> dict[str, Any]:
        """JSON-ready dictionary (the command line's contract)."""
        d: dict[str, Any] = {
            "baseline_count": self.baseline_count,
            "followup_count": self.followup_count,
            "persisting": self.persisting,
            "lost": self.lost,
            "new": self.new,
            "count_change": self.count_change,
            "common_area_cm2": round(self.common_area_cm2, 5),
            "overlap_fraction": round(self.overlap_fraction, 4),
            "density_change_per_cm2": round(self.density_change_per_cm2, 2),
            "registration": self.registration.to_dict(),
            "quality": {
                f.name: {
                    "value": f.value,
                    "threshold": f.threshold,
                    "ok": f.ok,
                    "message": f.message,
                }
                for f in self.quality
            },
            "independent": {
                "baseline_hair_count": self.baseline.hair_count,
                "followup_hair_count": self.followup.hair_count,
                "baseline_density_per_cm2": round(self.baseline.density_per_cm2, 2),
                "followup_density_per_cm2": round(self.followup.density_per_cm2, 2),
            },
            "algorithm_version": self.algorithm_version,
        }
        if include_hairs:
            d["hairs"] = [
                {
                    "status": f.status,
                    "baseline_id": f.baseline_id,
                    "followup_id": f.followup_id,
                    "confidence": round(f.confidence, 3),
                    "in_field": f.in_field,
                    "matched": f.matched,
                    "duplicate_of": f.duplicate_of,
                    "baseline_diameter_um": (
                        round(self.baseline.hairs[f.baseline_id].diameter_um, 2)
                        if f.baseline_id >= 0
                        else None
                    ),
                    "followup_diameter_um": (
                        round(self.followup.hairs[f.followup_id].diameter_um, 2)
                        if f.followup_id >= 0
                        else None
                    ),
                }
                for f in self.fates
            ]
        return d


def count_change_at_least(hairs: list[dict[str, Any]], min_diameter_um: float) -> int:
    """Matched change of the hairs at least ``min_diameter_um`` thick (e.g. terminal hairs).

    Parameters
    ----------
    hairs : list of dict
        The ``hairs`` of :meth:`ChangeResult.to_dict` with ``include_hairs=True``.
    min_diameter_um : float
        Shaft diameter from which a hair counts (the registry's terminal threshold).

    Returns
    -------
    int
        In the common field: new hairs at least that thick, minus lost ones, plus persisting
        hairs that crossed the threshold upwards, minus those that crossed it downwards (a
        persisting hair found only on one visit contributes nothing).
    """

    def thick(d: float | None) -> int:
        return int(d is not None and d >= min_diameter_um)

    total = 0
    for h in hairs:
        if not h["in_field"] or h.get("duplicate_of", -1) >= 0:
            continue
        before, after = h.get("baseline_diameter_um"), h.get("followup_diameter_um")
        if h["status"] == "lost":
            total -= thick(before)
        elif h["status"] == "new":
            total += thick(after)
        elif before is not None and after is not None:
            total += thick(after) - thick(before)
    return total


def common_field(
    shape_baseline: tuple[int, int],
    shape_followup: tuple[int, int],
    registration: Registration,
    guard_px: float,
) -> npt.NDArray[np.float64]:
    """Polygon (baseline coordinates) seen by both images, inset by ``guard_px``.

    Parameters
    ----------
    shape_baseline, shape_followup : tuple of int
        ``(height, width)`` of each image.
    registration : Registration
        Baseline → follow-up.
    guard_px : float

    Returns
    -------
    ndarray, shape (k, 2)
        Convex polygon, empty (``k = 0``) without overlap.
    """

    def rect(h: int, w: int) -> npt.NDArray[np.float64]:
        g = guard_px
        return np.array([[g, g], [w - 1 - g, g], [w - 1 - g, h - 1 - g], [g, h - 1 - g]], float)

    a = rect(*shape_baseline)
    b = registration.inverse(rect(*shape_followup))
    if not (np.all(a[2] > a[0]) and np.all(b.max(0) > b.min(0))):
        return np.zeros((0, 2))
    area, poly = cv2.intersectConvexConvex(a.astype(np.float32), b.astype(np.float32))
    if poly is None or area <= 0:
        return np.zeros((0, 2))
    return np.asarray(poly, dtype=float).reshape(-1, 2)


def _inside(poly: npt.NDArray[np.float64], pts: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    if len(poly) < 3:
        return np.zeros(len(pts), bool)
    c = poly.astype(np.float32).reshape(-1, 1, 2)
    return np.array([cv2.pointPolygonTest(c, (float(x), float(y)), False) >= 0 for x, y in pts])


def midpoint(pts: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Point halfway along a sampled centreline (by arc length)."""
    if len(pts) == 1:
        only: npt.NDArray[np.float64] = pts[0]
        return only
    seg = np.hypot(*np.diff(pts, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    half = s[-1] / 2.0
    return np.array([np.interp(half, s, pts[:, 0]), np.interp(half, s, pts[:, 1])])


def _analysed(
    rgb: np.ndarray, um: float, vellus_max_um: float, known: TrichometryResult | None
) -> tuple[TrichometryResult, npt.NDArray[np.float32], int]:
    """An image's analysis and contrast image, reusing ``known`` when it fits the image."""
    if known is not None and tuple(known.image_shape) == rgb.shape[:2] and known.hairs:
        _, contrast, _, _, scale = contrast_image(rgb, um)
        return known, contrast, scale
    return analyze_with_contrast(rgb, um, vellus_max_um=vellus_max_um)


def _load(image: np.ndarray | str | os.PathLike[str]) -> np.ndarray:
    return load_image(image) if isinstance(image, (str, os.PathLike)) else as_rgb_array(image)


def _name(image: object, fallback: str) -> str:
    return str(image) if isinstance(image, (str, os.PathLike)) else fallback


def _duplicates(
    hairs: list[npt.NDArray[np.float64]], paired: set[int], tol_px: float
) -> dict[int, int]:
    """Left-over hairs that repeat another hair of the same image.

    The skeleton's decomposition can give one shaft two paths (a short spur at a junction
    continues the same trunk): the shorter runs within ``tol_px`` of the longer over at
    least ``DUP_SHARE`` of its length. Such a hair is not a change of its own.

    Parameters
    ----------
    hairs : list of ndarray, shape (n, 2)
        Sampled centrelines of one image.
    paired : set of int
        Hairs matched to the other image (never a duplicate themselves).
    tol_px : float

    Returns
    -------
    dict of int to int
        ``left-over hair -> the longer hair it repeats``.
    """
    if len(hairs) < 2:
        return {}
    pts = np.concatenate(hairs)
    owner = np.concatenate([np.full(len(h), k) for k, h in enumerate(hairs)])
    tree = cKDTree(pts)
    out: dict[int, int] = {}
    for k, h in enumerate(hairs):
        if k in paired or not len(h):
            continue
        # the share of this hair's points with a point of hair ``o`` within the tolerance (the
        # 12 nearest points: its own ~3 and those of a hair running along it)
        d, j = tree.query(h, k=min(12, len(pts)), distance_upper_bound=tol_px)
        ok = np.isfinite(d)
        if not ok.any():
            continue
        point = np.broadcast_to(np.arange(len(h))[:, None], d.shape)[ok]
        pairs = np.unique(point * len(hairs) + owner[j[ok]])
        share = np.bincount(pairs % len(hairs), minlength=len(hairs)) / len(h)
        best, best_len = -1, -1
        for o in np.nonzero(share >= DUP_SHARE)[0].tolist():
            n_o = len(hairs[o])
            if o == k or n_o < len(h) or (n_o == len(h) and o > k) or o in out:
                continue
            if n_o > best_len:
                best, best_len = o, n_o
        if best >= 0:
            out[k] = best
    return out


def _rejoin(
    fates: list[HairFate],
    pb: list[npt.NDArray[np.float64]],
    pf: list[npt.NDArray[np.float64]],
    tol_px: float,
) -> list[HairFate]:
    """A lost and a new hair that lie along each other are one persisting hair.

    The detector can trace one shaft differently on the two visits (joined to a neighbour, cut
    at a crossing, its decomposition at a unit's junction), so that neither trace passes the
    matching gate; a real loss and a real new hair lie along each other only when they share
    an ostium, and then part at 10-30 degrees.
    """
    lost = [k for k, f in enumerate(fates) if f.status == "lost" and f.duplicate_of < 0]
    new = [k for k, f in enumerate(fates) if f.status == "new" and f.duplicate_of < 0]
    if not lost or not new:
        return fates
    m = match_centrelines(
        [pb[fates[k].baseline_id] for k in lost],
        [pf[fates[k].followup_id] for k in new],
        tol_px,
        min_overlap=REJOIN_OVERLAP,
    )
    if not m.pairs:
        return fates
    out = list(fates)
    drop = set()
    for (a, b), c in zip(m.pairs, m.confidence, strict=True):
        fa, fb = fates[lost[a]], fates[new[b]]
        out[lost[a]] = HairFate(
            "persisting", fa.baseline_id, fb.followup_id, c, fa.in_field, matched=False
        )
        drop.add(new[b])
    return [f for k, f in enumerate(out) if k not in drop]


def _still_there(
    hair: npt.NDArray[np.float64],
    other_hairs: cKDTree | None,
    other_contrast: npt.NDArray[np.float32],
    other_scale: int,
    level: float,
    tol_px: float,
) -> tuple[bool, float]:
    """Whether the other image still shows ``hair`` (its coordinates mapped there).

    Either its detected hairs cover most of it (a hair cut in two, or merged with a
    neighbour, on one visit only), or the stretch from one of its ends (skipping the ostium)
    still has hair contrast: a re-clipped shaft starts at the same exit point.

    Returns
    -------
    tuple
        ``(still there, confidence that it is gone)``.
    """
    if other_hairs is not None and len(hair):
        d_other, _ = other_hairs.query(hair, distance_upper_bound=3 * tol_px)
    else:
        d_other = np.full(len(hair), np.inf)
    if float(np.mean(d_other <= tol_px)) >= 0.6:
        return True, 0.0
    # contrast only where no other detected hair passes (a unit's sibling near the ostium,
    # a crossing hair): there, hair contrast means this hair itself, undetected
    c = contrast_along(other_contrast, other_scale, hair)
    free = d_other > FREE_TOL * tol_px
    n = len(c)
    lo, hi = max(1, int(0.1 * n)), max(2, int(0.5 * n))
    seen = 0.0
    for part, ok in ((c[lo:hi], free[lo:hi]), (c[::-1][lo:hi], free[::-1][lo:hi])):
        if int(ok.sum()) >= 4:
            seen = max(seen, float(np.median(part[ok])))
    if seen >= level:
        return True, 0.0
    return False, float(np.clip(1.0 - seen / max(level, 1e-6), 0.0, 1.0))


def matched_change(
    baseline_image: np.ndarray | str | os.PathLike[str],
    followup_image: np.ndarray | str | os.PathLike[str],
    um_per_px: float,
    vellus_max_um: float = 40.0,
    max_rotation_deg: float = 5.0,
    names: tuple[str, str] | None = None,
    analyses: tuple[TrichometryResult | None, TrichometryResult | None] = (None, None),
) -> ChangeResult:
    """Hair-to-hair change of a target site between a baseline and a follow-up image.

    Parameters
    ----------
    baseline_image, followup_image : ndarray or path
        RGB images of the same clipped site (same calibration).
    um_per_px : float
        Calibration (both images).
    vellus_max_um : float, optional
    max_rotation_deg : float, optional
        Largest camera rotation searched for.
    names : tuple of str, optional
        How error messages name the two images (default: their paths).
    analyses : tuple, optional
        Analyses of the baseline and the follow-up already made with this engine version
        (e.g. stored ones, :meth:`TrichometryResult.from_dict`): only the contrast image is
        computed again for them. They must be of these very images.

    Returns
    -------
    ChangeResult

    Raises
    ------
    ImageError
        An image cannot be read, or the calibration is invalid.
    ChangeError
        The images do not overlap enough or cannot be registered (message names both).
    """
    um = check_calibration(um_per_px)
    name_b, name_f = names or (
        _name(baseline_image, "baseline"),
        _name(followup_image, "follow-up"),
    )
    label = f"{name_b} / {name_f}"
    t0 = time.perf_counter()
    img_b = _load(baseline_image)
    img_f = _load(followup_image)
    rb, cb, sb = _analysed(img_b, um, vellus_max_um, analyses[0])
    rf, cf, sf = _analysed(img_f, um, vellus_max_um, analyses[1])
    t_analyses = time.perf_counter()
    coarse = coarse_register(img_b, img_f, um, max_rotation_deg=max_rotation_deg)
    ends_b = np.array([[h.polyline[0], h.polyline[-1]] for h in rb.hairs]).reshape(-1, 2)
    ends_f = np.array([[h.polyline[0], h.polyline[-1]] for h in rf.hairs]).reshape(-1, 2)
    reg = refine_on_points(coarse, ends_b, ends_f, gate_px=40.0, inlier_px=4.0)
    if reg.n_points < MIN_MATCHED_POINTS or reg.residual_px > MAX_ACCEPTED_RESIDUAL_PX:
        raise ChangeError(f"{label}: the images could not be registered (too few common hairs)")
    tol = max(3.0, 18.0 / um) + min(reg.residual_px, 3.0)
    pb = [densify(h.polyline) for h in rb.hairs]
    pf_own = [densify(h.polyline) for h in rf.hairs]
    pf = [reg.inverse(p) for p in pf_own]
    match = match_centrelines(pb, pf, tol)
    # refit on the exit points of matched hairs: the nearest pair of their ends
    src, dst = [], []
    for i, j in match.pairs:
        a, b = pb[i][[0, -1]], pf_own[j][[0, -1]]
        bb = reg.inverse(b)
        d = np.sqrt(((a[:, None, :] - bb[None, :, :]) ** 2).sum(-1))
        k, m = np.unravel_index(int(np.argmin(d)), d.shape)
        src.append(a[k])
        dst.append(b[m])
    if len(src) >= MIN_MATCHED_POINTS:
        reg = refine_on_points(reg, np.array(src), np.array(dst), gate_px=8.0, inlier_px=3.0)
    t_match = time.perf_counter()
    guard = max(GUARD_UM / um, rb.frame.x0)
    poly = common_field(rb.image_shape, rf.image_shape, reg, guard)
    H, W = rb.image_shape
    full_area = (W - 1 - 2 * guard) * (H - 1 - 2 * guard)
    area_px = float(cv2.contourArea(poly.astype(np.float32))) if len(poly) >= 3 else 0.0
    overlap = area_px / full_area if full_area > 0 else 0.0
    if overlap < MIN_OVERLAP_FRACTION:
        raise ChangeError(
            f"{label}: the images show too little of the same skin "
            f"({100 * overlap:.0f} % overlap; at least {100 * MIN_OVERLAP_FRACTION:.0f} %)"
        )
    mid_b = np.array([midpoint(p) for p in pb]) if pb else np.zeros((0, 2))
    mid_f = np.array([midpoint(p) for p in pf]) if pf else np.zeros((0, 2))
    in_b = _inside(poly, mid_b)
    in_f = _inside(poly, mid_f)
    # contrast levels: each hair's own contrast, scaled between the images' typical contrast
    # (measured on up to 60 matched pairs)

    def own(c: npt.NDArray[np.float32], scale: int, p: npt.NDArray[np.float64]) -> float:
        v = contrast_along(c, scale, p)
        return float(np.partition(v, len(v) // 2)[len(v) // 2])

    sample = match.pairs[:: max(1, len(match.pairs) // 60)]
    ratios = [own(cf, sf, pf_own[j]) / max(own(cb, sb, pb[i]), 1e-6) for i, j in sample]
    ratio = float(np.median(ratios)) if ratios else 1.0
    tree_f = cKDTree(np.concatenate(pf_own)) if pf_own else None
    tree_b = cKDTree(np.concatenate(pb)) if pb else None
    fates: list[HairFate] = []
    paired_b = {i for i, _ in match.pairs}
    paired_f = {j for _, j in match.pairs}
    for (i, j), c in zip(match.pairs, match.confidence, strict=True):
        fates.append(HairFate("persisting", i, j, c, bool(in_b[i])))
    dup_b = _duplicates(pb, paired_b, DUP_UM / um)
    dup_f = _duplicates(pf_own, paired_f, DUP_UM / um)
    status_b: dict[int, str] = dict.fromkeys(paired_b, "persisting")
    status_f: dict[int, str] = dict.fromkeys(paired_f, "persisting")
    for i, p in enumerate(pb):
        if i in paired_b or i in dup_b:
            continue
        there, conf = _still_there(
            reg.forward(p),
            tree_f,
            cf,
            sf,
            max(STILL_LEVEL * own(cb, sb, p) * ratio, 3.0),
            tol,
        )
        if there:
            fates.append(HairFate("persisting", i, -1, 0.5, bool(in_b[i]), matched=False))
        else:
            fates.append(HairFate("lost", i, -1, conf, bool(in_b[i])))
        status_b[i] = fates[-1].status
    for j, p in enumerate(pf):
        if j in paired_f or j in dup_f:
            continue
        there, conf = _still_there(
            p,
            tree_b,
            cb,
            sb,
            max(STILL_LEVEL * own(cf, sf, pf_own[j]) / max(ratio, 1e-6), 3.0),
            tol,
        )
        if not there:
            fates.append(HairFate("new", -1, j, conf, bool(in_f[j])))
            status_f[j] = "new"
        # a follow-up piece still seen at baseline belongs to a persisting hair counted above
    # second detections of one shaft take the status of the hair they repeat (a follow-up
    # duplicate of a persisting hair, like a piece of one, needs no fate of its own)
    for dup, of in sorted(dup_b.items()):
        st = status_b.get(of, "persisting")
        fates.append(HairFate(st, dup, -1, 0.5, bool(in_b[dup]), matched=False, duplicate_of=of))
    for dup, of in sorted(dup_f.items()):
        if status_f.get(of) == "new":
            fates.append(HairFate("new", -1, dup, 0.5, bool(in_f[dup]), duplicate_of=of))
    fates = _rejoin(fates, pb, pf, tol)
    persisting = sum(1 for f in fates if f.status == "persisting" and f.counted)
    lost = sum(1 for f in fates if f.status == "lost" and f.counted)
    new = sum(1 for f in fates if f.status == "new" and f.counted)
    if persisting + lost >= MIN_HAIRS_FOR_SHARE and persisting < MIN_PERSISTING_SHARE * (
        persisting + lost
    ):
        # most baseline hairs "lost" between two visits means the images were not lined up
        # on the same skin (or show different sites), not a real change
        raise ChangeError(
            f"{label}: the images could not be registered "
            f"(only {persisting} of {persisting + lost} hairs found again)"
        )
    area_cm2 = area_px * (um * 1e-4) ** 2
    quality = (
        QualityFlag(
            "registration",
            round(reg.residual_px, 3),
            MAX_RESIDUAL_PX,
            bool(reg.residual_px <= MAX_RESIDUAL_PX),
            "registration residual (px) of the matched exit points",
        ),
        QualityFlag(
            "overlap",
            round(overlap, 4),
            0.5,
            bool(overlap >= 0.5),
            "share of the baseline field also seen at follow-up",
        ),
        QualityFlag(
            "images",
            float(sum(1 for r in (rb, rf) for f in r.quality if not f.ok)),
            0.0,
            all(f.ok for r in (rb, rf) for f in r.quality),
            "quality flags failed by the two analyses",
        ),
    )
    t_end = time.perf_counter()
    return ChangeResult(
        baseline_count=persisting + lost,
        followup_count=persisting + new,
        persisting=persisting,
        lost=lost,
        new=new,
        common_area_cm2=area_cm2,
        overlap_fraction=overlap,
        registration=reg,
        fates=tuple(fates),
        field_polygon=tuple((float(x), float(y)) for x, y in poly),
        quality=quality,
        baseline=rb,
        followup=rf,
        um_per_px=um,
        timings_ms={
            "analyses": 1e3 * (t_analyses - t0),
            "registration_and_matching": 1e3 * (t_match - t_analyses),
            "total": 1e3 * (t_end - t0),
        },
    )
