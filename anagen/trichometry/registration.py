"""Registration of two images of one site: a rigid move from the skin texture, refined on hairs.

Two stages, both shared by the anagen/telogen pair (:mod:`anagen.trichometry.growth`) and
the matched follow-up (:mod:`anagen.trichometry.change`):

1. :func:`coarse_register`: the skin texture (pores, ostia, pigment, hairs) of both images as
   a band-passed, locally normalised grey image at about 32 um/px (exposure and colour
   differences cancel); phase correlation gives the shift, tried over a ladder of rotations
   when the camera may have turned (the rotation with the sharpest correlation peak wins);
2. :func:`refine_on_points`: a RANSAC fit on mutually near hair end points (follicle exits
   stay put between visits, clipped tips do not: they are the outliers), then a few
   iterations of closest-point (ICP) refits on the inliers. The residual (RMS distance of the
   inlier pairs after the fit) is the registration's own quality figure.

Transforms are 2 x 3 matrices mapping coordinates of the first image onto the second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

__all__ = [
    "Registration",
    "coarse_register",
    "refine_on_points",
    "rigid_fit",
]

Matrix = npt.NDArray[np.float64]
#: resolution of the skin texture compared by :func:`coarse_register` (micrometres per pixel)
TEXTURE_UM = 32.0


@dataclass(frozen=True)
class Registration:
    """A rigid move from the first image's coordinates onto the second's.

    Attributes
    ----------
    matrix : ndarray of float, shape (2, 3)
        ``[R | t]``: ``p2 = R @ p1 + t``.
    centre : tuple of float
        Point about which ``dx_px, dy_px`` are reported (the first image's centre).
    residual_px : float
        RMS distance of the matched points after the fit (NaN without a refinement).
    n_points : int
        Matched point pairs the refinement kept.
    response : float
        Normalised correlation of the aligned skin texture in the coarse stage (-1 to 1;
        unrelated images give a few hundredths).
    """

    matrix: Matrix
    centre: tuple[float, float]
    residual_px: float
    n_points: int
    response: float

    @property
    def rotation_deg(self) -> float:
        return math.degrees(math.atan2(self.matrix[1, 0], self.matrix[0, 0]))

    @property
    def shift_px(self) -> tuple[float, float]:
        """Where the first image's centre lands, minus the centre: ``(dx, dy)``."""
        c = np.array(self.centre)
        moved = self.matrix[:, :2] @ c + self.matrix[:, 2]
        return float(moved[0] - c[0]), float(moved[1] - c[1])

    def forward(self, pts: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Map ``(N, 2)`` points of the first image onto the second."""
        p = np.asarray(pts, dtype=float).reshape(-1, 2)
        out: npt.NDArray[np.float64] = p @ self.matrix[:, :2].T + self.matrix[:, 2]
        return out

    def inverse(self, pts: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Map ``(N, 2)`` points of the second image back onto the first."""
        inv = np.asarray(cv2.invertAffineTransform(self.matrix), dtype=float)
        p = np.asarray(pts, dtype=float).reshape(-1, 2)
        out: npt.NDArray[np.float64] = p @ inv[:, :2].T + inv[:, 2]
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``dx_px, dy_px, rotation_deg, residual_px``."""
        dx, dy = self.shift_px
        return {
            "dx_px": round(dx, 2),
            "dy_px": round(dy, 2),
            "rotation_deg": round(self.rotation_deg, 3),
            "residual_px": None if math.isnan(self.residual_px) else round(self.residual_px, 3),
            "matched_points": self.n_points,
            "texture_response": round(self.response, 4),
        }


def _texture(rgb: np.ndarray, scale: int) -> npt.NDArray[np.float32]:
    """Band-passed, locally contrast-normalised grey image at ``1/scale`` resolution."""
    h, w = rgb.shape[:2]
    # area-average the colour image first: grey is a weighted sum, so converting the small
    # image costs a fraction of converting the full one
    shrunk = cv2.resize(
        np.ascontiguousarray(rgb),
        (max(w // scale, 8), max(h // scale, 8)),
        interpolation=cv2.INTER_AREA,
    )
    small = cv2.cvtColor(shrunk, cv2.COLOR_RGB2GRAY).astype(np.float32)
    g = np.log1p(
        np.asarray(small, dtype=np.float32)
    )  # exposure gain becomes an offset, removed by the band pass
    band = cv2.GaussianBlur(g, (0, 0), 0.7) - cv2.GaussianBlur(g, (0, 0), 6.0)
    local = np.sqrt(cv2.GaussianBlur(band * band, (0, 0), 12.0)) + 1e-4
    out: npt.NDArray[np.float32] = (band / local).astype(np.float32)
    return out


def _rotation_about(centre: tuple[float, float], angle_deg: float) -> Matrix:
    # p' = R (p - c) + c with R the rotation by +angle in x-right, y-down pixel coordinates
    a = math.radians(angle_deg)
    r = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    c = np.asarray(centre, dtype=float)
    return np.hstack([r, (c - r @ c)[:, None]])


def coarse_register(
    first: np.ndarray,
    second: np.ndarray,
    um_per_px: float,
    max_rotation_deg: float = 0.0,
    step_deg: float = 1.0,
) -> Registration:
    """Shift (and rotation, when allowed) of the second image against the first, from texture.

    Parameters
    ----------
    first, second : ndarray of uint8, shape (H, W, 3)
        RGB images of the same site, same calibration.
    um_per_px : float
        Calibration.
    max_rotation_deg : float, optional
        Rotations in ``[-max, max]`` on a ladder of ``step_deg`` (0: shift only) are searched
        coarse to fine: every other rung, then the two rungs beside the best.
    step_deg : float, optional

    Returns
    -------
    Registration
        ``residual_px`` is NaN (no points were matched).
    """
    scale = max(1, round(TEXTURE_UM / um_per_px))
    a = _texture(first, scale)
    b = _texture(second, scale)
    if a.shape != b.shape:
        h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
        a, b = a[:h, :w], b[:h, :w]
    h, w = a.shape
    win = cv2.createHanningWindow((w, h), cv2.CV_32F)
    c_small = ((w - 1) / 2.0, (h - 1) / 2.0)
    n = math.floor(max_rotation_deg / step_deg + 1e-9)
    g = max(1, int(0.12 * min(h, w)))
    scored: dict[int, tuple[float, float, float]] = {}

    def score(k: int) -> float:
        """Correlation of the aligned texture at the rotation ``k * step_deg`` (memoised)."""
        if k not in scored:
            ang = k * step_deg
            # undo the candidate rotation of the second image, then correlate the shift
            m = _rotation_about(c_small, -ang)
            bu = cv2.warpAffine(b, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            (sx, sy), _ = cv2.phaseCorrelate(a, bu, win)
            # score: normalised correlation of the inner field once aligned (smoother in the
            # angle than the phase-correlation peak)
            m[:, 2] -= (sx, sy)
            al = cv2.warpAffine(b, m, (w, h), flags=cv2.INTER_LINEAR)
            ai, bi = a[g:-g, g:-g].ravel(), al[g:-g, g:-g].ravel()
            ncc = float(np.corrcoef(ai, bi)[0, 1]) if ai.std() > 0 and bi.std() > 0 else 0.0
            scored[k] = (ncc, float(sx), float(sy))
        return scored[k][0]

    # coarse to fine: every other step of the ladder, then the two steps beside the best
    # (the correlation falls off smoothly over a few degrees)
    coarse = list(range(-n + (n % 2), n + 1, 2)) if n > 1 else list(range(-n, n + 1))
    best = max(coarse, key=score)
    for k in (best - 1, best + 1):
        if -n <= k <= n:
            score(k)
    best = max(scored, key=lambda k: scored[k][0])
    resp, sx, sy = scored[best]
    ang = best * step_deg
    if best - 1 in scored and best + 1 in scored:  # parabolic refinement of the angle
        r0, r1, r2 = scored[best - 1][0], resp, scored[best + 1][0]
        den = r0 - 2 * r1 + r2
        if den < 0:
            ang = ang + 0.5 * step_deg * (r0 - r2) / den
    # second = R(ang) about the centre, then shifted by (sx, sy) * scale
    H, W = first.shape[:2]
    centre = ((W - 1) / 2.0, (H - 1) / 2.0)
    m = _rotation_about(centre, ang)
    m[:, 2] += m[:, :2] @ np.array([sx * scale, sy * scale])
    return Registration(m, centre, float("nan"), 0, resp)


def rigid_fit(src: npt.ArrayLike, dst: npt.ArrayLike) -> Matrix:
    """Least-squares rotation and translation (no scale) taking ``src`` onto ``dst``.

    Parameters
    ----------
    src, dst : array_like, shape (N, 2)
        Corresponding points, ``N >= 2``.

    Returns
    -------
    ndarray of float, shape (2, 3)
    """
    p = np.asarray(src, dtype=float)
    q = np.asarray(dst, dtype=float)
    mp, mq = p.mean(axis=0), q.mean(axis=0)
    cov = (q - mq).T @ (p - mp)
    u, _, vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(u @ vt)) or 1.0
    r = u @ np.diag([1.0, d]) @ vt
    return np.hstack([r, (mq - r @ mp)[:, None]])


def refine_on_points(
    start: Registration,
    first_pts: npt.ArrayLike,
    second_pts: npt.ArrayLike,
    gate_px: float = 40.0,
    inlier_px: float = 4.0,
    min_points: int = 6,
    iterations: int = 4,
    rigid: bool = True,
) -> Registration:
    """Refine a registration on two point sets (hair ends), robust to points that moved.

    Parameters
    ----------
    start : Registration
        The coarse estimate.
    first_pts, second_pts : array_like, shape (N, 2) and (M, 2)
        Points of each image (unpaired).
    gate_px : float, optional
        Nearest neighbours farther apart than this after ``start`` are not paired.
    inlier_px : float, optional
        RANSAC and ICP inlier distance.
    min_points : int, optional
        Fewer inliers than this keep ``start`` (with ``n_points`` 0).
    iterations : int, optional
        Closest-point refits after RANSAC.
    rigid : bool, optional
        Refit without scale (the dermoscope's magnification is fixed); False keeps the
        RANSAC similarity (the anagen/telogen pair's historical behaviour).

    Returns
    -------
    Registration
    """
    p = np.asarray(first_pts, dtype=float).reshape(-1, 2)
    q = np.asarray(second_pts, dtype=float).reshape(-1, 2)
    if len(p) < min_points or len(q) < min_points:
        return start
    tree = cKDTree(q)
    d, j = tree.query(start.forward(p))
    ok = d < gate_px
    if ok.sum() < min_points:
        return start
    est, inl = cv2.estimateAffinePartial2D(
        p[ok].astype(np.float32),
        q[j[ok]].astype(np.float32),
        method=cv2.RANSAC,
        ransacReprojThreshold=inlier_px,
    )
    if est is None or inl is None or int(inl.sum()) < min_points:
        return start
    m = np.asarray(est, dtype=float)
    if not rigid:
        sel = inl.ravel().astype(bool)
        moved = p[ok][sel] @ m[:, :2].T + m[:, 2]
        res = float(np.sqrt(np.mean(np.sum((moved - q[j[ok]][sel]) ** 2, axis=1))))
        return Registration(m, start.centre, res, int(sel.sum()), start.response)
    res, kept = float("nan"), 0
    for _ in range(max(1, iterations)):
        d, j = tree.query(p @ m[:, :2].T + m[:, 2])
        sel = d < inlier_px
        if sel.sum() < min_points:
            break
        m = rigid_fit(p[sel], q[j[sel]])
        moved = p[sel] @ m[:, :2].T + m[:, 2]
        res = float(np.sqrt(np.mean(np.sum((moved - q[j[sel]]) ** 2, axis=1))))
        kept = int(sel.sum())
    if kept < min_points:
        return start
    return Registration(m, start.centre, res, kept, start.response)
