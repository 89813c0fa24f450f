"""Overlay of detected hairs on the analysed image."""

from __future__ import annotations

import os

import cv2
import numpy as np

from anagen.trichometry.engine import TrichometryResult
from anagen.trichometry.io import as_rgb_array

TERMINAL_RGB = (0, 200, 255)
VELLUS_RGB = (255, 120, 0)
NOT_COUNTED_RGB = (150, 150, 150)
FRAME_RGB = (40, 220, 40)


def render_overlay(image: np.ndarray, result: TrichometryResult) -> np.ndarray:
    """Draw each hair's centreline and id on a copy of ``image``.

    Terminal hairs are drawn in cyan, vellus hairs in orange, hairs outside the counting rule in
    grey; the counting frame is drawn in green (inclusion edges solid top/left, exclusion edges
    bottom/right dashed).

    Parameters
    ----------
    image : the analysed image (grey or RGB).
    result : the result of :func:`anagen.trichometry.analyze` on it.

    Returns
    -------
    (H, W, 3) uint8 RGB array.
    """
    out = as_rgb_array(image).copy()
    h, w = out.shape[:2]
    th = max(1, round(min(h, w) / 600))
    fs = max(0.35, min(h, w) / 1600)
    fr = result.frame
    x0, y0, x1, y1 = int(fr.x0), int(fr.y0), int(fr.x1), int(fr.y1)
    cv2.line(out, (x0, y0), (x1, y0), FRAME_RGB, th)
    cv2.line(out, (x0, y0), (x0, y1), FRAME_RGB, th)
    for a, b in (((x0, y1), (x1, y1)), ((x1, y0), (x1, y1))):
        n = max(2, int(np.hypot(b[0] - a[0], b[1] - a[1]) // 12))
        xs = np.linspace(a[0], b[0], n)
        ys = np.linspace(a[1], b[1], n)
        for i in range(0, n - 1, 2):
            cv2.line(
                out, (int(xs[i]), int(ys[i])), (int(xs[i + 1]), int(ys[i + 1])), (220, 40, 40), th
            )
    for hair in result.hairs:
        if not hair.counted:
            col = NOT_COUNTED_RGB
        else:
            col = TERMINAL_RGB if hair.kind == "terminal" else VELLUS_RGB
        pts = np.round(np.asarray(hair.polyline) * 16).astype(np.int32)
        cv2.polylines(out, [pts], False, col, th, lineType=cv2.LINE_AA, shift=4)
        ex, ey = (int(v) for v in hair.polyline[0])
        cv2.putText(
            out, str(hair.id), (ex + 3, ey - 3), cv2.FONT_HERSHEY_SIMPLEX, fs, col, th, cv2.LINE_AA
        )
    return out


def write_overlay(
    path: str | os.PathLike[str], image: np.ndarray, result: TrichometryResult
) -> None:
    """Render the overlay and write it as PNG to ``path``."""
    rgb = render_overlay(image, result)
    if not cv2.imwrite(os.fspath(path), np.ascontiguousarray(rgb[:, :, ::-1])):
        raise OSError(f"could not write {path}")
