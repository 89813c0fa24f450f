"""Overlay of a matched follow-up: persisting, lost and new hairs beside the baseline."""

from __future__ import annotations

import os

import cv2
import numpy as np
import numpy.typing as npt

from anagen.trichometry.change import ChangeResult
from anagen.trichometry.io import as_rgb_array

__all__ = ["LOST_RGB", "NEW_RGB", "PERSISTING_RGB", "render_change_overlay", "write_change_overlay"]

PERSISTING_RGB = (40, 200, 40)
LOST_RGB = (230, 40, 40)
NEW_RGB = (30, 140, 255)
FIELD_RGB = (255, 220, 0)


def _draw(out: np.ndarray, pts: np.ndarray, colour: tuple[int, int, int], th: int) -> None:
    q = np.round(np.asarray(pts) * 16).astype(np.int32)
    cv2.polylines(out, [q], False, colour, th, lineType=cv2.LINE_AA, shift=4)


def render_change_overlay(
    baseline: np.ndarray, followup: np.ndarray, result: ChangeResult, both: bool = True
) -> npt.NDArray[np.uint8]:
    """Baseline (left) and follow-up registered onto it (right), hairs coloured by fate.

    Left: the baseline with its persisting hairs in green and lost hairs in red. Right: the
    follow-up moved into the baseline's frame with persisting hairs in green, new hairs in
    blue and the lost hairs' former places in red. The common field is outlined in yellow
    on both; hairs outside it are drawn thin.

    Parameters
    ----------
    baseline, followup : ndarray
        The two analysed images.
    result : ChangeResult
        Their :func:`anagen.trichometry.change.matched_change`.
    both : bool, optional
        False: only the right panel (to show beside the plain baseline image).

    Returns
    -------
    ndarray of uint8, shape (H, 2 W + gap, 3), or (H, W, 3) with ``both=False``
    """
    left = as_rgb_array(baseline).copy()
    h, w = left.shape[:2]
    inv = cv2.invertAffineTransform(result.registration.matrix)
    right = cv2.warpAffine(
        as_rgb_array(followup), inv, (w, h), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0)
    )
    th = max(1, round(min(h, w) / 500))
    field = np.round(np.asarray(result.field_polygon) * 16).astype(np.int32)
    hb, hf = result.baseline.hairs, result.followup.hairs
    for fate in result.fates:
        t = th if fate.in_field else 1
        if fate.status == "persisting":
            if fate.baseline_id >= 0:
                _draw(left, np.asarray(hb[fate.baseline_id].polyline), PERSISTING_RGB, t)
            if fate.followup_id >= 0:
                p = result.registration.inverse(hf[fate.followup_id].polyline)
                _draw(right, p, PERSISTING_RGB, t)
        elif fate.status == "lost":
            p = np.asarray(hb[fate.baseline_id].polyline)
            _draw(left, p, LOST_RGB, t + 1)
            _draw(right, p, LOST_RGB, t)
        else:
            p = result.registration.inverse(hf[fate.followup_id].polyline)
            _draw(right, p, NEW_RGB, t + 1)
    for img in (left, right):
        if len(field) >= 3:
            cv2.polylines(img, [field.reshape(-1, 1, 2)], True, FIELD_RGB, th, cv2.LINE_AA, 4)
    if not both:
        return np.ascontiguousarray(right)
    gap = np.full((h, max(8, w // 100), 3), 255, np.uint8)
    out: npt.NDArray[np.uint8] = np.ascontiguousarray(np.hstack([left, gap, right]))
    return out


def write_change_overlay(
    path: str | os.PathLike[str], baseline: np.ndarray, followup: np.ndarray, result: ChangeResult
) -> None:
    """Render :func:`render_change_overlay` and write it as PNG to ``path``."""
    rgb = render_change_overlay(baseline, followup, result)
    if not cv2.imwrite(os.fspath(path), np.ascontiguousarray(rgb[:, :, ::-1])):
        raise OSError(f"could not write {path}")
