"""Unbiased counting-frame rule shared by the engine and the phantom ground truth.

A hair is an extended object that may be cut by the image border. To count hairs per unit area
without bias we use a Gundersen-style counting frame: an inner rectangle inset from the image
border by ``margin`` pixels, whose **top and left edges are inclusion edges** and whose **bottom
and right edges are exclusion edges**. Each hair is represented by one *designated end*: the
end of its centreline with the smaller ``y`` (the upper end in the image; ties broken by the
smaller ``x``). A hair is counted if and only if its designated end lies in the half-open
rectangle ``[x0, x1) x [y0, y1)``.

Because each hair has exactly one designated end, the designated ends form a point pattern with
the same intensity as the hairs, so ``count / frame_area`` is an unbiased density estimate.
The inset guarantees that a counted hair's designated end is a true end and not a point where
the hair leaves the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CountingFrame:
    """Half-open counting rectangle ``[x0, x1) x [y0, y1)`` in pixel coordinates."""

    x0: float
    y0: float
    x1: float
    y1: float

    @classmethod
    def for_shape(cls, shape: tuple[int, ...], margin: float | None = None) -> CountingFrame:
        """Frame for an image of ``shape`` (rows, cols, ...), inset by ``margin`` pixels.

        The default margin is ``max(8, 1 % of the smaller side)``.
        """
        h, w = int(shape[0]), int(shape[1])
        if margin is None:
            margin = max(8.0, round(0.01 * min(h, w)))
        return cls(float(margin), float(margin), float(w - margin), float(h - margin))

    @property
    def area_px(self) -> float:
        """Frame area in square pixels."""
        return max(0.0, self.x1 - self.x0) * max(0.0, self.y1 - self.y0)

    def contains(self, x: float, y: float) -> bool:
        """True if point ``(x, y)`` is inside (inclusion edges top/left, exclusion bottom/right)."""
        return self.x0 <= x < self.x1 and self.y0 <= y < self.y1


def designated_end(polyline: np.ndarray) -> tuple[float, float]:
    """Return the designated end ``(x, y)`` of a centreline: the end with the smaller ``y``.

    Parameters
    ----------
    polyline : (N, 2) array of ``(x, y)`` points.
    """
    p = np.asarray(polyline, dtype=float)
    a, b = p[0], p[-1]
    if (a[1], a[0]) <= (b[1], b[0]):
        return float(a[0]), float(a[1])
    return float(b[0]), float(b[1])


def is_counted(polyline: np.ndarray, frame: CountingFrame) -> bool:
    """True if the hair with this centreline is counted under the counting-frame rule."""
    x, y = designated_end(polyline)
    return frame.contains(x, y)
