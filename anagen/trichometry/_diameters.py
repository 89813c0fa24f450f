"""Stage 4: hair diameters from intensity profiles across the centreline.

Profiles are sampled perpendicular to each hair on the full-resolution image, projected on
the hair's colour direction, and their full width at half contrast measured with sub-pixel
interpolation. The edge blur is measured on the wide hairs and deconvolved with a table of
the blurred width of a box; the diameter is the robust median along the hair. A path whose
width grows steadily from one end to the other (two hairs of a unit that never part)
becomes two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from scipy.special import erf

from anagen.trichometry._geometry import group_median, to_detection
from anagen.trichometry._params import Params

# a profile must be this much wider than the blur alone for its shaft width to be resolved
RESOLVED_FWHM = 1.05


@dataclass(frozen=True)
class Diameters:
    """Measured hairs.

    Attributes
    ----------
    polylines : list of ndarray of float, shape (n, 2)
        Full-resolution ``(x, y)`` centrelines (wedges split in two).
    diameter_px : ndarray of float, shape (len(polylines),)
        Shaft diameter, full-resolution px; NaN where no profile could be measured.
    blur_px : float
        Edge blur (Gaussian sigma) of the image, full-resolution px.
    limit_px : float
        Narrowest diameter the blur resolves, full-resolution px.
    """

    polylines: list[np.ndarray]
    diameter_px: np.ndarray
    blur_px: float
    limit_px: float


def measure_diameters(
    rgb: np.ndarray,
    background: np.ndarray,
    diff: np.ndarray,
    scale: int,
    polys: list[np.ndarray],
    radii: list[float],
    params: Params,
) -> Diameters:
    """Diameters of the hairs, deconvolved for the image's edge blur.

    Parameters
    ----------
    rgb : ndarray of uint8, shape (H, W, 3)
        Full-resolution image.
    background : ndarray of float32, shape (h, w, 3)
        Detection-scale hair-free background.
    diff : ndarray of float32, shape (h, w, 3)
        Detection-scale colour difference to the background.
    scale : int
        Down-sampling factor.
    polys : list of ndarray of float, shape (n, 2)
        Full-resolution ``(x, y)`` centrelines.
    radii : list of float
        Approximate radius of each hair, full-resolution px (sets the profile length).
    params : Params

    Returns
    -------
    Diameters
    """
    colours = [_hair_colour(diff, scale, poly) for poly in polys]
    sections, widths, sigmas = _profiles(
        rgb, background, float(scale), colours, polys, radii, params.section_step_px
    )
    blur_px = _edge_blur(sections, widths, sigmas, params)
    true_widths, fwhm_widths = _fwhm_table(blur_px)
    owner = np.zeros(len(widths), np.int64)  # hair of each section
    for k, g in enumerate(sections):
        owner[g] = k
    median_fwhm = group_median(widths, owner, len(sections))
    diameter_px = _true_width(median_fwhm, fwhm_widths, true_widths)
    polys, diameter_px = _split_wedges(
        polys, diameter_px, owner, widths, fwhm_widths, true_widths, params
    )
    limit_px = _resolution_limit(fwhm_widths, true_widths)
    return Diameters(polys, diameter_px, blur_px, limit_px)


def _hair_colour(diff: np.ndarray, scale: int, poly: np.ndarray) -> np.ndarray:
    """Unit colour direction of a hair against the skin (mean colour difference along it).

    Parameters
    ----------
    diff : ndarray of float32, shape (h, w, 3)
        Detection-scale colour difference to the background.
    scale : int
        Down-sampling factor.
    poly : ndarray of float, shape (n, 2)
        Full-resolution ``(x, y)`` centreline.

    Returns
    -------
    ndarray, shape (3,)
        Unit vector; dark grey when the hair shows no colour difference.
    """
    q = to_detection(poly, scale)
    v = cv2.remap(
        diff,
        q[:, 0:1].astype(np.float32).T,
        q[:, 1:2].astype(np.float32).T,
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT,
    )[0]
    d = v.mean(axis=0)
    n = float(np.linalg.norm(d))
    return d / n if n > 1e-6 else np.array([-1.0, -1.0, -1.0]) / math.sqrt(3)


def _edge_blur(
    sections: list[np.ndarray], widths: np.ndarray, sigmas: np.ndarray, params: Params
) -> float:
    """Global edge blur (Gaussian sigma, px) from the sections of wide hairs.

    On wide hairs the two edges do not interact and the slope method is unbiased.

    Parameters
    ----------
    sections : list of ndarray of int
        Section indices of each hair.
    widths, sigmas : ndarray of float
        Full width at half contrast and edge sigma of every section, px (NaN if unmeasured).
    params : Params

    Returns
    -------
    float
    """
    wide = np.concatenate([widths[g] for g in sections]) if sections else np.zeros(0)
    sigma = np.concatenate([sigmas[g] for g in sections]) if sections else np.zeros(0)
    ok = np.isfinite(wide) & np.isfinite(sigma) & (wide > params.blur_min_width_px)
    blur_px = (
        float(np.median(sigma[ok]))
        if ok.sum() >= params.blur_min_sections
        else params.default_blur_px
    )
    return float(np.clip(blur_px, params.min_blur_px, params.max_blur_px))


def _fwhm_table(sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Blurred width of a box: the full width at half maximum for a grid of true widths.

    Parameters
    ----------
    sigma : float
        Gaussian blur, px.

    Returns
    -------
    true_widths : ndarray of float, shape (1200,)
        Box widths 0.05 .. 60 px.
    fwhm_widths : ndarray of float, shape (1200,)
        Their full width at half maximum after the blur (increasing).
    """
    w = np.linspace(0.05, 60.0, 1200)
    if sigma <= 1e-3:
        return w, w
    s2 = math.sqrt(2) * sigma

    def prof(x: np.ndarray) -> np.ndarray:
        p: np.ndarray = 0.5 * (erf((x + w / 2) / s2) - erf((x - w / 2) / s2))  # scipy: untyped
        return p

    half = prof(np.zeros_like(w)) / 2
    lo, hi = np.zeros_like(w), w / 2 + 6 * sigma
    for _ in range(40):  # bisection for prof(x) = half
        mid = 0.5 * (lo + hi)
        above = prof(mid) > half
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return w, lo + hi


def _profiles(
    rgb: np.ndarray,
    bg_small: np.ndarray,
    scale: float,
    directions: list[np.ndarray],
    polys: list[np.ndarray],
    radii: list[float],
    step: float,
    n_u: int = 81,
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Full width at half contrast and edge blur of profiles across every hair.

    Parameters
    ----------
    rgb : ndarray of uint8, shape (H, W, 3)
        Full-resolution image.
    bg_small : ndarray of float32, shape (h, w, 3)
        Detection-scale background.
    scale : float
        Down-sampling factor.
    directions : list of ndarray, shape (3,)
        Colour direction of each hair; profiles are the colour difference projected on it.
    polys : list of ndarray of float, shape (n, 2)
        Full-resolution ``(x, y)`` centrelines.
    radii : list of float
        Approximate radii, px (profile half-length ``2 r + 6``).
    step : float
        Spacing of the sections along a hair, px.
    n_u : int, optional
        Samples per profile.

    Returns
    -------
    sections : list of ndarray of int
        Indices of the sections of each hair, in order along it.
    widths : ndarray of float
        Full width at half contrast of each section, px (NaN when not measurable).
    sigmas : ndarray of float
        Edge blur (Gaussian sigma) from the edge slopes of each section, px.
    """
    centres, normals, halfw, owner = [], [], [], []
    for hi, (p, r) in enumerate(zip(polys, radii, strict=False)):
        seg = np.hypot(*np.diff(p, axis=0).T)
        s = np.concatenate([[0.0], np.cumsum(seg)])
        length = s[-1]
        trim = min(max(1.5 * r, 3.0), 0.3 * length)
        n = max(3, int((length - 2 * trim) / step))
        t = np.linspace(trim, length - trim, n) if length > 2 * trim else np.full(3, length / 2)
        x = np.interp(t, s, p[:, 0])
        y = np.interp(t, s, p[:, 1])
        dt = 2.0 * max(r, 2.0)
        xa, ya = np.interp(t - dt, s, p[:, 0]), np.interp(t - dt, s, p[:, 1])
        xb, yb = np.interp(t + dt, s, p[:, 0]), np.interp(t + dt, s, p[:, 1])
        tx, ty = xb - xa, yb - ya
        nn = np.maximum(np.hypot(tx, ty), 1e-9)
        centres.append(np.stack([x, y], 1))
        normals.append(np.stack([-ty / nn, tx / nn], 1))
        halfw.append(np.full(len(t), 2.0 * r + 6.0))
        owner.append(np.full(len(t), hi))
    if not centres:
        return [], np.zeros(0), np.zeros(0)
    c = np.concatenate(centres)
    nrm = np.concatenate(normals)
    hw = np.concatenate(halfw)
    own = np.concatenate(owner)
    u = np.linspace(-1.0, 1.0, n_u)
    offsets = hw[:, None] * u[None, :]
    mx = (c[:, 0:1] + offsets * nrm[:, 0:1]).astype(np.float32)
    my = (c[:, 1:2] + offsets * nrm[:, 1:2]).astype(np.float32)
    samp = cv2.remap(rgb, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT).astype(
        np.float32
    )
    bgs = cv2.remap(
        bg_small,
        to_detection(mx, scale),
        to_detection(my, scale),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT,
    )
    dvec = np.asarray(directions, dtype=np.float32)[own]
    prof = np.einsum("suc,sc->su", samp - bgs, dvec)
    tail = n_u // 7
    left = np.median(prof[:, :tail], axis=1)
    right = np.median(prof[:, -tail:], axis=1)
    base = np.minimum(left, right)
    prof = prof - base[:, None]
    du = hw * (u[1] - u[0])
    centre_band = np.abs(offsets) <= (hw[:, None] - 6.0) / 2.0 + 2.0
    pk_prof = np.where(centre_band, prof, -np.inf)
    pk = np.argmax(pk_prof, axis=1)
    rows = np.arange(len(prof))
    peak = prof[rows, pk]
    half = peak / 2.0
    below = prof < half[:, None]
    idx = np.arange(n_u)[None, :]
    li = np.where(below & (idx < pk[:, None]), idx, -1).max(axis=1)
    ri = np.where(below & (idx > pk[:, None]), idx, n_u).min(axis=1)
    valid = (li >= 0) & (ri < n_u) & (peak > 0)
    li_c = np.clip(li, 0, n_u - 2)
    ri_c = np.clip(ri, 1, n_u - 1)
    pl0, pl1 = prof[rows, li_c], prof[rows, li_c + 1]
    pr0, pr1 = prof[rows, ri_c - 1], prof[rows, ri_c]
    xl = li_c + (half - pl0) / np.maximum(pl1 - pl0, 1e-9)
    xr = (ri_c - 1) + (pr0 - half) / np.maximum(pr0 - pr1, 1e-9)
    width = (xr - xl) * du
    slope = 0.5 * (np.abs(pl1 - pl0) + np.abs(pr0 - pr1)) / du
    sig = peak / (math.sqrt(2 * math.pi) * np.maximum(slope, 1e-9))
    width[~valid] = np.nan
    sig[~valid] = np.nan
    groups = [np.nonzero(own == i)[0] for i in range(len(polys))]
    return groups, width, sig


def _split_wedges(
    polys: list[np.ndarray],
    diam_px: np.ndarray,
    owner: np.ndarray,
    widths: np.ndarray,
    fwhm: np.ndarray,
    true_w: np.ndarray,
    params: Params,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Split paths that are two hairs of one follicular unit lying side by side.

    Hairs of a unit leave their shared ostium at a small angle; when they never part within the
    image the mask is one wedge whose width grows steadily from the ostium (one shaft) to the
    distal end (two shafts side by side), while a single clipped hair keeps its width. Such a
    path becomes two hairs diverging from the narrow end, each with the narrow-end diameter.
    """
    if params.wedge_ratio <= 0 or not polys:
        return polys, diam_px
    # the sections run along the path (``owner``: the path of each section, in order): a
    # straight-line fit of width against position, for all paths at once, gives the single
    # shaft at one end and the two side by side at the other
    n_paths = len(polys)
    ok = np.isfinite(widths)
    wv, ov = widths[ok], owner[ok]
    n = np.bincount(ov, minlength=n_paths)
    first = np.concatenate([[0], np.cumsum(n)[:-1]])
    pos = (np.arange(len(wv)) - first[ov]) / np.maximum(n[ov] - 1, 1) - 0.5
    sxx = np.bincount(ov, pos * pos, n_paths)
    slope = np.bincount(ov, pos * wv, n_paths) / np.maximum(sxx, 1e-12)
    mean = np.bincount(ov, wv, n_paths) / np.maximum(n, 1)
    lo, hi = mean - 0.5 * np.abs(slope), mean + 0.5 * np.abs(slope)
    candidate = (
        (n >= params.min_wedge_sections)
        & np.isfinite(diam_px)
        & (lo > 0)
        & (hi >= params.wedge_ratio * lo)
    )
    out_p, out_d = [], []
    for k, (poly, diameter) in enumerate(zip(polys, diam_px, strict=True)):
        wedge = bool(candidate[k])
        if wedge:  # the width must grow steadily, not jump at a crossing near one end
            w = wv[first[k] : first[k] + n[k]]
            pos_k = np.linspace(-0.5, 0.5, n[k])
            rho = np.corrcoef(np.argsort(np.argsort(w)), pos_k)[0, 1]
            quarters = np.array([np.median(c) for c in np.array_split(w, 4)])
            monotone = bool((np.diff(quarters) * np.sign(slope[k]) >= 0).all())
            wedge = abs(rho) >= params.wedge_rho and monotone
        if not wedge:
            out_p.append(poly)
            out_d.append(diameter)
            continue
        q = poly if slope[k] > 0 else poly[::-1]  # from the narrow (ostium) end
        seg = np.hypot(*np.diff(q, axis=0).T)
        sfrac = np.concatenate([[0.0], np.cumsum(seg)]) / max(seg.sum(), 1e-9)
        tang = np.gradient(q, axis=0)
        nrm = np.stack([-tang[:, 1], tang[:, 0]], 1)
        nrm /= np.maximum(np.hypot(nrm[:, 0], nrm[:, 1]), 1e-9)[:, None]
        shift = (sfrac * (hi[k] - lo[k]) / 2.0)[:, None] * nrm
        d_one = float(_true_width(lo[k], fwhm, true_w))
        out_p += [q + shift, q - shift]
        out_d += [d_one, d_one]
    return out_p, np.asarray(out_d, dtype=float)


def _true_width(fwhm_px: npt.ArrayLike, fwhm: np.ndarray, true_w: np.ndarray) -> np.ndarray:
    """Shaft widths for measured full widths at half contrast (inverse of the blur table).

    NaN (no width measured) stays NaN. A profile at most 5 % wider than the blur's own is
    below the resolution limit: it reads as that limit (an upper bound, see
    :func:`_resolution_limit`).
    """
    w = np.asarray(fwhm_px, dtype=float)
    floor = RESOLVED_FWHM * fwhm[0]
    limit = _resolution_limit(fwhm, true_w)
    return np.where(np.isfinite(w), np.where(w > floor, np.interp(w, fwhm, true_w), limit), np.nan)


def _resolution_limit(fwhm: np.ndarray, true_w: np.ndarray) -> float:
    """Narrowest shaft width (px) the blur lets the profile tell apart from no width at all."""
    return float(np.interp(RESOLVED_FWHM * fwhm[0], fwhm, true_w))
