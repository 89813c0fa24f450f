"""Stage 1: polarity-free hair contrast at detection scale.

A hair-free background is estimated at coarse scale, subtracted, and the colour difference
is whitened by the skin's noise covariance: the contrast image is the Mahalanobis distance
to the skin colour, in units of the noise, so dark, light, grey and blond hairs on any skin
tone are all positive. Being in noise units, the contrast *is* a contrast-to-noise ratio.
"""

from __future__ import annotations

import cv2
import numpy as np

from anagen.trichometry._params import DEFAULT_PARAMS, Params

_SUM3 = np.ones((1, 3), np.float32)
# median of a chi distribution with 3 degrees of freedom: the whitened noise magnitude
_CHI3_MEDIAN = 1.5382


def contrast_image(
    rgb: np.ndarray, um_per_px: float, params: Params = DEFAULT_PARAMS
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Detection-scale hair contrast image.

    Parameters
    ----------
    rgb : ndarray of uint8, shape (H, W, 3)
        Full-resolution RGB image.
    um_per_px : float
        Calibration, micrometres per full-resolution pixel.
    params : Params, optional

    Returns
    -------
    small : ndarray of float32, shape (h, w, 3)
        RGB image at detection scale.
    contrast : ndarray of float32, shape (h, w)
        Hair contrast in noise units: hairs positive, skin about 1.5 (the noise median).
    background : ndarray of float32, shape (h, w, 3)
        Hair-free RGB background at detection scale.
    diff : ndarray of float32, shape (h, w, 3)
        Colour difference ``small - background``.
    scale : int
        Down-sampling factor from full resolution.
    """
    H, W = rgb.shape[:2]
    scale = max(1, round(params.detect_um_per_px / um_per_px))
    det_um = um_per_px * scale
    if scale > 1:
        small = cv2.resize(rgb, (W // scale, H // scale), interpolation=cv2.INTER_AREA)
    else:
        small = rgb
    small = small.astype(np.float32)
    coarse = max(2, round(params.background_um / det_um))
    contrast, background, diff = hair_contrast(small, coarse, params)
    return small, contrast, background, diff, scale


def hair_contrast(
    small: np.ndarray, coarse: int, params: Params = DEFAULT_PARAMS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noise-whitened colour contrast of hairs against a background estimated without them.

    Parameters
    ----------
    small : ndarray of float32, shape (h, w, 3)
        Detection-scale RGB image.
    coarse : int
        Down-sampling factor of the background estimate.
    params : Params, optional

    Returns
    -------
    contrast : ndarray of float32, shape (h, w)
        Whitened magnitude of the lightly smoothed colour difference, in noise units.
    background : ndarray of float32, shape (h, w, 3)
    diff : ndarray of float32, shape (h, w, 3)
        ``small - background``.
    """
    bg = _background(small, None, coarse)
    mag = _norm3(cv2.subtract(small, bg))
    ms = mag[::3, ::3]
    med = float(np.median(ms))
    mad = 1.4826 * float(np.median(np.abs(ms - med))) + 1e-3
    cand = mag > min(
        med + params.candidate_mads * mad, float(np.percentile(ms, params.candidate_percentile))
    )
    square = np.ones((params.exclude_px, params.exclude_px), np.uint8)
    excl = cv2.dilate(cand.astype(np.uint8), square) > 0
    bg = _background(small, excl, coarse)
    # second pass: faint (chroma-only) hairs hidden by a background contaminated in dense
    # tufts are found in the noise-whitened contrast and excluded as well
    # (on every other pixel: the mask is dilated anyway)
    m1 = _whitened(cv2.subtract(small[::2, ::2], bg[::2, ::2])) > params.background_k
    h, w = cand.shape
    cand = cand | (cv2.resize(m1.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0)
    excl = cv2.dilate(cand.astype(np.uint8), square) > 0
    bg = _background(small, excl, coarse)
    diff = cv2.subtract(small, bg)
    return _whitened(diff), bg, diff


def _background(small: np.ndarray, exclude: np.ndarray | None, coarse: int) -> np.ndarray:
    """Smooth background of an image, ignoring excluded (hair) pixels.

    Parameters
    ----------
    small : ndarray of float32, shape (h, w, 3)
    exclude : ndarray of bool, shape (h, w), or None
        Pixels left out of the estimate (a median filter is used when None).
    coarse : int
        Down-sampling factor of the estimate.

    Returns
    -------
    ndarray of float32, shape (h, w, 3)
    """
    h, w = small.shape[:2]
    cw, ch = max(w // coarse, 4), max(h // coarse, 4)
    if exclude is None:
        c = cv2.resize(small, (cw, ch), interpolation=cv2.INTER_AREA)
        c = cv2.medianBlur(np.clip(c, 0, 255).astype(np.uint8), 5).astype(np.float32)
    else:
        keep = (~exclude).astype(np.float32)
        num = cv2.resize(small * keep[:, :, None], (cw, ch), interpolation=cv2.INTER_AREA)
        den = cv2.resize(keep, (cw, ch), interpolation=cv2.INTER_AREA)
        # normalised convolution at two scales: where a dense tuft covers most of the fine
        # neighbourhood, the coarser hair-free estimate fills in
        num1 = cv2.GaussianBlur(num, (0, 0), 1.0)
        den1 = cv2.GaussianBlur(den, (0, 0), 1.0)
        num3 = cv2.GaussianBlur(num, (0, 0), 3.0)
        den3 = cv2.GaussianBlur(den, (0, 0), 3.0)
        a = 0.15
        c = (num1 + a * num3) / np.maximum(den1 + a * den3, 1e-3)[:, :, None]
    return cv2.resize(c, (w, h), interpolation=cv2.INTER_LINEAR)


def _norm3(a: np.ndarray) -> np.ndarray:
    """Per-pixel Euclidean norm of a 3-channel float32 image."""
    return cv2.sqrt(cv2.transform(cv2.multiply(a, a), _SUM3))


def _whitened(diff: np.ndarray) -> np.ndarray:
    """Noise-whitened magnitude of a colour difference.

    Parameters
    ----------
    diff : ndarray of float32, shape (h, w, 3)

    Returns
    -------
    ndarray of float32, shape (h, w)
        In noise units: the noise covariance is estimated on the weakest 75 % of the pixels.
    """
    ds = cv2.GaussianBlur(diff, (0, 0), 0.7)
    sub = ds[::3, ::3].reshape(-1, 3)
    nsub = np.sqrt((sub * sub).sum(axis=1))
    sel = sub[nsub <= np.percentile(nsub, 75.0)]
    cov = np.cov(sel.T) + np.eye(3) * 1e-3
    evals, evecs = np.linalg.eigh(cov)
    whiten = (evecs / np.sqrt(np.maximum(evals, 1e-6))).T.astype(np.float32)
    m = _norm3(cv2.transform(ds, whiten))
    med = float(np.median(m[::3, ::3]))
    m *= _CHI3_MEDIAN / max(med, 1e-6)
    return m
