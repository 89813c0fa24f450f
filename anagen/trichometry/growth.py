"""Anagen/telogen classification from a day-0 / day-N phototrichogram pair."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

from anagen.trichometry._geometry import to_detection
from anagen.trichometry.engine import (
    ALGORITHM_VERSION,
    TrichometryResult,
    analyze,
    contrast_image,
)
from anagen.trichometry.io import as_rgb_array, check_calibration, load_image
from anagen.trichometry.registration import Registration, refine_on_points

#: typical anagen growth rate of scalp hair, micrometres per day
GROWTH_UM_PER_DAY = 300.0


@dataclass(frozen=True)
class HairGrowth:
    """Growth of one day-0 hair: ``matched_id`` is the day-N hair id or -1 (shed)."""

    hair_id: int
    matched_id: int
    growth_um: float
    anagen: bool


@dataclass(frozen=True)
class AnagenResult:
    """Anagen/telogen counts of the hairs counted on day 0."""

    anagen_count: int
    telogen_count: int
    anagen_fraction: float
    shed_count: int
    days: float
    threshold_um: float
    shift_px: tuple[float, float]
    rotation_deg: float
    hairs: tuple[HairGrowth, ...]
    day0: TrichometryResult
    dayn: TrichometryResult
    algorithm_version: str = ALGORITHM_VERSION

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "anagen_count": self.anagen_count,
            "telogen_count": self.telogen_count,
            "anagen_fraction": round(self.anagen_fraction, 4),
            "shed_count": self.shed_count,
            "days": self.days,
            "growth_threshold_um": self.threshold_um,
            "registration": {
                "shift_px": [round(v, 2) for v in self.shift_px],
                "rotation_deg": round(self.rotation_deg, 3),
            },
            "hairs": [asdict(h) for h in self.hairs],
            "day0_hair_count": self.day0.hair_count,
            "dayn_hair_count": self.dayn.hair_count,
            "algorithm_version": self.algorithm_version,
        }


def _grey(rgb: np.ndarray, scale: int) -> np.ndarray:
    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    h, w = g.shape
    g = cv2.resize(g, (w // scale, h // scale), interpolation=cv2.INTER_AREA).astype(np.float32)
    return g - cv2.GaussianBlur(g, (0, 0), 8.0)


def _sample(poly: np.ndarray, step: float = 4.0) -> np.ndarray:
    seg = np.hypot(*np.diff(poly, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    t = np.arange(0.0, s[-1] + 1e-9, step)
    return np.stack([np.interp(t, s, poly[:, 0]), np.interp(t, s, poly[:, 1])], 1)


def _along(f: np.ndarray, scale: int, poly: np.ndarray) -> float:
    """Median detection-scale contrast along a full-resolution polyline."""
    q = _sample(poly, 2.0 * scale)
    x = to_detection(q[:, 0], scale).astype(np.float32)[None, :]
    y = to_detection(q[:, 1], scale).astype(np.float32)[None, :]
    v = cv2.remap(f, x, y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return float(np.median(v))


def _sample_at(f: np.ndarray, scale: int, pts: np.ndarray) -> np.ndarray:
    x = to_detection(pts[:, 0], scale).astype(np.float32)[None, :]
    y = to_detection(pts[:, 1], scale).astype(np.float32)[None, :]
    row: np.ndarray = cv2.remap(f, x, y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)[0]
    return row


def _march(
    f: np.ndarray,
    scale: int,
    poly: np.ndarray,
    r: float,
    level: float,
    reach: float,
    size: tuple[int, int],
    ref: np.ndarray,
    ref_scale: int,
    ref_level: float,
    inv: np.ndarray,
) -> tuple[float, bool]:
    """Follow a hair beyond the first point of ``poly`` in contrast image ``f`` (day N).

    Only shaft that is *new* counts: positions where the registered day-0 contrast ``ref``
    already showed hair (another hair lying beyond the tip) are crossed but not counted.

    Returns (new shaft length in full-resolution px, whether the image border stopped the march).
    """
    w, h = size
    k = min(len(poly) - 1, max(2, int(6 * scale)))
    t = poly[0] - poly[k]
    n = float(np.hypot(*t))
    if n == 0:
        return 0.0, False
    t = t / n
    step = 1.5 * scale
    lateral = np.arange(-(r + 2 * scale), r + 2 * scale + 1e-9, 0.5 * scale)
    centre = np.abs(lateral) <= r + 1.0 * scale
    pos = poly[0].astype(float).copy()
    new_len, pending, misses, travelled = 0.0, 0.0, 0, 0.0
    while travelled < 20.0 * reach and new_len < reach:
        nxt = pos + t * step
        travelled += step
        if not (2 <= nxt[0] < w - 3 and 2 <= nxt[1] < h - 3):
            return new_len, True
        nrm = np.array([-t[1], t[0]])
        pts = nxt[None, :] + lateral[:, None] * nrm[None, :]
        prof = _sample_at(f, scale, pts)
        j = int(np.argmax(np.where(centre, prof, -np.inf)))
        if prof[j] >= level:
            new = pts[j]
            d = new - pos
            dn = float(np.hypot(*d))
            if dn > 0:
                t = 0.8 * t + 0.2 * d / dn
                t /= float(np.hypot(*t))
            pos = new
            back = pos @ inv[:, :2].T + inv[:, 2]
            old = _sample_at(ref, ref_scale, back[None, :])[0] >= ref_level
            if not old:
                new_len += step + pending
            pending = 0.0
            misses = 0
        else:
            pos = nxt
            misses += 1
            pending += step
            if misses >= 3:
                break
    return new_len, False


def _ray_inside(poly: np.ndarray, length: float, w: int, h: int) -> bool:
    """True if both ends of ``poly`` extrapolated by ``length`` px stay inside the image."""
    for a, b in ((poly[0], poly[min(6, len(poly) - 1)]), (poly[-1], poly[max(-7, -len(poly))])):
        t = a - b
        n = float(np.hypot(*t))
        q = a + (t / n * length if n > 0 else 0)
        if not (0 <= q[0] < w and 0 <= q[1] < h):
            return False
    return True


def _touches_border(poly: np.ndarray, w: int, h: int, margin: float = 4.0) -> bool:
    return bool(
        poly[:, 0].min() <= margin
        or poly[:, 1].min() <= margin
        or poly[:, 0].max() >= w - 1 - margin
        or poly[:, 1].max() >= h - 1 - margin
    )


def register(day0: np.ndarray, dayn: np.ndarray) -> tuple[float, float]:
    """Translation ``(dx, dy)`` in pixels that maps day-0 coordinates onto day N.

    Phase correlation on high-passed grey images at half resolution.
    """
    scale = 2
    a, b = _grey(day0, scale), _grey(dayn, scale)
    win = cv2.createHanningWindow(a.shape[::-1], cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(a, b, win)
    return float(dx * scale), float(dy * scale)


def anagen_telogen(
    day0_image: np.ndarray | str | os.PathLike[str],
    dayN_image: np.ndarray | str | os.PathLike[str],
    days: float,
    um_per_px: float,
    growth_um_per_day: float = GROWTH_UM_PER_DAY,
    vellus_max_um: float = 40.0,
) -> AnagenResult:
    """Classify the hairs counted on day 0 as anagen (growing) or telogen.

    The two images of the same clipped site are registered (phase correlation for the shift,
    then a RANSAC similarity fit on matched hair ends for residual rotation), each day-0 hair is
    matched to the day-N hair that contains it, and hairs that grew at least half of
    ``growth_um_per_day * days`` are anagen. Day-0 hairs without a match (shed) count as telogen.

    Parameters
    ----------
    day0_image, dayN_image : arrays or paths of the two images.
    days : interval between the images in days (> 0).
    um_per_px : calibration (both images).
    growth_um_per_day : expected anagen growth rate (default 300 um/day).

    Returns
    -------
    AnagenResult
    """
    um = check_calibration(um_per_px)
    if not days or days <= 0:
        raise ValueError("days must be > 0")
    img0 = (
        load_image(day0_image)
        if isinstance(day0_image, (str, os.PathLike))
        else as_rgb_array(day0_image)
    )
    imgn = (
        load_image(dayN_image)
        if isinstance(dayN_image, (str, os.PathLike))
        else as_rgb_array(dayN_image)
    )
    r0 = analyze(img0, um, vellus_max_um=vellus_max_um)
    rn = analyze(imgn, um, vellus_max_um=vellus_max_um)
    dx, dy = register(img0, imgn)
    threshold = 0.5 * growth_um_per_day * days
    polys0 = [np.asarray(h.polyline) for h in r0.hairs]
    polysn = [np.asarray(h.polyline) for h in rn.hairs]
    m = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]])
    rot = 0.0
    if polys0 and polysn:
        # refine with a similarity transform fitted on mutually nearest hair ends (the
        # registration shared with the matched follow-up, similarity kept as before 1.4)
        e0 = np.array([[p[0], p[-1]] for p in polys0]).reshape(-1, 2)
        en = np.array([[p[0], p[-1]] for p in polysn]).reshape(-1, 2)
        H0, W0 = img0.shape[:2]
        start = Registration(m, ((W0 - 1) / 2.0, (H0 - 1) / 2.0), float("nan"), 0, 0.0)
        refined = refine_on_points(start, e0, en, gate_px=40.0, inlier_px=4.0, rigid=False)
        if refined.n_points:
            m = refined.matrix
            rot = float(np.degrees(np.arctan2(m[1, 0], m[0, 0])))
    H, W = img0.shape[:2]
    hn, wn = imgn.shape[:2]
    _, f0, _, _, sc0 = contrast_image(img0, um)
    _, fn, _, _, scn = contrast_image(imgn, um)
    reach = 1.6 * threshold / um
    minv = cv2.invertAffineTransform(m.astype(np.float64))
    expect = 1.1 * threshold / um
    # contrast images are in per-image noise units: compare day N with day 0 through the
    # typical hair contrast of each image
    pairs_c = [
        (_along(f0, sc0, p), _along(fn, scn, p @ m[:, :2].T + m[:, 2]))
        for h, p in zip(r0.hairs, polys0, strict=False)
        if h.counted
    ]
    ratio = (
        float(np.median([b for _, b in pairs_c]))
        / max(float(np.median([a for a, _ in pairs_c])), 1e-6)
        if pairs_c
        else 1.0
    )
    out = []
    for h, p in zip(r0.hairs, polys0, strict=False):
        if not h.counted or _touches_border(p, W, H):
            continue
        pn = p @ m[:, :2].T + m[:, 2]
        if not (_ray_inside(pn, expect, wn, hn) and _ray_inside(p, expect, W, H)):
            continue  # growth could leave the field: not assessable (status-independent rule)
        r = 0.5 * h.diameter_um / um
        c0 = _along(f0, sc0, p)
        cn = _along(fn, scn, pn)
        if cn < 0.35 * c0 * ratio:  # shed between the visits: telogen
            out.append(HairGrowth(h.id, -1, 0.0, False))
            continue
        growth = 0.0
        assessable = True
        for end in (0, 1):
            g, hit_border = _march(
                fn,
                scn,
                pn if end == 0 else pn[::-1],
                r,
                0.45 * cn,
                reach,
                (wn, hn),
                ref=f0,
                ref_scale=sc0,
                ref_level=0.45 * c0,
                inv=minv,
            )
            if hit_border and g * um < threshold:
                assessable = False
            growth = max(growth, g * um)
        anagen = growth >= threshold
        if not anagen and not assessable:
            continue  # the shaft left the field on day N: growth not measurable
        out.append(HairGrowth(h.id, 0, float(growth), bool(anagen)))
    n_a = sum(1 for g in out if g.anagen)
    n_t = len(out) - n_a
    return AnagenResult(
        anagen_count=n_a,
        telogen_count=n_t,
        anagen_fraction=n_a / len(out) if out else 0.0,
        shed_count=sum(1 for g in out if g.matched_id < 0),
        days=float(days),
        threshold_um=threshold,
        shift_px=(float(m[0, 2]), float(m[1, 2])),
        rotation_deg=rot,
        hairs=tuple(out),
        day0=r0,
        dayn=rn,
    )
