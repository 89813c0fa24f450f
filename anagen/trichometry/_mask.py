"""Stage 2: hair mask by hysteresis threshold of the contrast image, restricted to local maxima."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from anagen.trichometry._params import Params


@dataclass(frozen=True)
class HairMask:
    """The detection-scale hair mask and what the later stages need from thresholding.

    Attributes
    ----------
    mask : ndarray of bool, shape (h, w)
        Hair pixels.
    above_low : ndarray of bool, shape (h, w)
        Pixels above the low threshold, before the local-maximum rule (the contrast that
        may bridge the gap between two fragments of one hair).
    hair_contrast : float
        Typical hair contrast, noise units (the contrast-to-noise ratio).
    """

    mask: np.ndarray
    above_low: np.ndarray
    hair_contrast: float


def hair_mask(contrast: np.ndarray, det_um: float, params: Params) -> HairMask:
    """Threshold the contrast image into a mask of hairs.

    Thresholds scale with the typical hair contrast (the median of strong pixels) so that
    faint and strong images alike are cut at the same relative level; a pixel must also
    reach half of the local maximum so that two hairs side by side stay apart.

    Parameters
    ----------
    contrast : ndarray of float32, shape (h, w)
        Contrast image in noise units.
    det_um : float
        Detection-scale calibration, micrometres per pixel.
    params : Params

    Returns
    -------
    HairMask
    """
    strong = contrast[contrast > params.strong_k]
    c_hair = float(np.median(strong)) if strong.size > params.min_strong_px else params.strong_k
    low = max(params.low_k, params.low_rel * c_hair)
    high = max(params.high_k, params.high_rel * c_hair)
    above_low = contrast > low
    mask_low = above_low.copy()
    if params.local_rel > 0:
        k = 2 * max(1, round(params.local_um / det_um / 2)) + 1
        local = cv2.dilate(contrast, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        mask_low &= contrast > params.local_rel * local
    n_lab, lab, stats, _ = cv2.connectedComponentsWithStats(
        mask_low.astype(np.uint8), connectivity=8
    )
    # hysteresis: keep the low-threshold components that reach the high threshold somewhere
    has_high = np.zeros(n_lab, bool)
    has_high[np.unique(lab[contrast > high])] = True
    has_high[0] = False
    big = stats[:, cv2.CC_STAT_AREA] >= max(
        params.min_area_px, int((params.min_blob_um / det_um) ** 2)
    )
    mask = (has_high & big)[lab]
    return HairMask(_fill_small_holes(mask, det_um, params), above_low, c_hair)


def _fill_small_holes(
    mask: npt.NDArray[np.bool_], det_um: float, params: Params
) -> npt.NDArray[np.bool_]:
    """Fill holes of the mask up to ``hole_um`` across (the gap inside a shallow crossing).

    Parameters
    ----------
    mask : ndarray of bool, shape (h, w)
    det_um : float
        Detection-scale calibration, micrometres per pixel.
    params : Params

    Returns
    -------
    ndarray of bool, shape (h, w)
        Holes touching the image border are background, never filled.
    """
    inv = (~mask).astype(np.uint8)
    _n, hole_lab, stats, _ = cv2.connectedComponentsWithStats(inv, connectivity=4)
    small_hole = stats[:, cv2.CC_STAT_AREA] <= max(
        params.min_area_px, int((params.hole_um / det_um) ** 2)
    )
    small_hole[0] = False
    border = np.unique(np.concatenate([hole_lab[0], hole_lab[-1], hole_lab[:, 0], hole_lab[:, -1]]))
    small_hole[border] = False
    filled: npt.NDArray[np.bool_] = mask | small_hole[hole_lab]  # cv2 labels are untyped
    return filled
