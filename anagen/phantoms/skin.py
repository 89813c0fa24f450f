"""The scalp under the hairs: mottled, unevenly lit skin with follicle ostia."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from .optics import gaussian_patch
from .spec import SKIN_TONES, HairSpec, PhantomSpec

__all__ = ["Ostium", "draw_ostia", "ostia_for", "skin"]

Ostium = tuple[float, float, float, float]
"""``(x px, y px, radius px, depth 0-1)`` of a follicle opening."""


def skin(
    spec: PhantomSpec, shape: tuple[int, int], rng: np.random.Generator
) -> npt.NDArray[np.float32]:
    """Bare skin of ``spec.skin_tone`` with mottling and illumination fall-off.

    Parameters
    ----------
    spec : PhantomSpec
    shape : tuple of int
        ``(height, width)`` of the canvas.
    rng : numpy.random.Generator
        The scene's stream (the same site looks the same in every shot).

    Returns
    -------
    ndarray
        ``(height, width, 3)`` float32 RGB.
    """
    h, w = shape
    base = np.array(SKIN_TONES[spec.skin_tone], dtype=np.float32)
    base = base * rng.uniform(0.94, 1.06)
    # low-frequency mottling and illumination fall-off
    lo0 = rng.normal(0, 1, (h // 64 + 2, w // 64 + 2)).astype(np.float32)
    # OpenCV keeps float32 but its stubs say "any image"; asarray is a no-op that restores the type
    lo = np.asarray(
        cv2.resize(cv2.GaussianBlur(lo0, (0, 0), 1.0), (w, h), interpolation=cv2.INTER_CUBIC),
        dtype=np.float32,
    )
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    vign = 1.0 - 0.08 * (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2) * 4
    fine = np.asarray(
        cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.5),
        dtype=np.float32,
    )
    fine *= 1.0 / max(float(fine.std()), 1e-6)
    shade = vign * (1.0 + 0.05 * lo / max(float(lo.std()), 1e-6) + 0.02 * fine)
    img: npt.NDArray[np.float32] = base[None, None, :] * shade[:, :, None]
    return img


def _ostium_shape(rng: np.random.Generator, um_per_px: float) -> tuple[float, float]:
    """Radius (px) and darkening depth of one ostium."""
    return rng.uniform(25, 45) / um_per_px, rng.uniform(0.08, 0.2)


def ostia_for(spec: PhantomSpec, hairs: list[HairSpec]) -> list[Ostium]:
    """Follicle ostia: one per follicular unit plus about 30 % empty ones.

    Parameters
    ----------
    spec : PhantomSpec
    hairs : list of HairSpec
        The hairs of the site; hairs of one unit share the first one's ostium.

    Returns
    -------
    list of tuple
        ``(x, y, radius_px, depth)``; each unit's ostium depends only on the seed and the
        unit, so it stays put when hairs grow or are shed between shots.
    """
    um = spec.um_per_px
    units: dict[int, HairSpec] = {}
    for h in hairs:
        units.setdefault(h.unit_id, h)
    out = []
    for uid, u in units.items():
        rng = np.random.default_rng([spec.seed, 5, uid + 1])
        out.append((u.x, u.y, *_ostium_shape(rng, um)))
    rng = np.random.default_rng([spec.seed, 6])
    for _ in range(int(len(units) * 0.3)):
        x, y = rng.uniform(0, spec.width), rng.uniform(0, spec.height)
        out.append((x, y, *_ostium_shape(rng, um)))
    return out


def draw_ostia(img: np.ndarray, ostia: list[Ostium], offset: float) -> None:
    """Darken ``img`` in place at each ostium, shifted by ``offset`` pixels on both axes."""
    for x, y, r, depth in ostia:
        patch = gaussian_patch(img.shape[:2], x + offset, y + offset, r)
        if patch is not None:
            where, g = patch
            img[where] *= (1.0 - depth * g)[:, :, None]
