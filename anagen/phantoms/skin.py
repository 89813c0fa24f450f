"""The scalp under the hairs: mottled, unevenly lit skin with follicle ostia."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from .optics import gaussian_patch
from .spec import SKIN_PATTERNS, SKIN_TONES, HairSpec, PhantomSpec

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
    if spec.skin_tone in SKIN_PATTERNS:
        _pigment_pattern(img, spec, rng)
    return img


def _pigment_pattern(
    img: npt.NDArray[np.float32], spec: PhantomSpec, rng: np.random.Generator
) -> None:
    """Honeycomb pigment network and pinpoint white dots of skin of colour (in place).

    The network is the boundary set of a Voronoi tessellation of jittered grid seeds (one
    cell per dermal papilla), drawn as soft pigmented lines about 50 um wide; the white dots
    are Poisson-placed pale discs of 40-110 um (eccrine openings).

    Parameters
    ----------
    img : ndarray of float32, shape (h, w, 3)
        Skin, changed in place.
    spec : PhantomSpec
        ``skin_tone`` (its entry of ``SKIN_PATTERNS``) and ``um_per_px``.
    rng : numpy.random.Generator
        The scene's stream.
    """
    strength, cell_um, dots_per_cm2 = SKIN_PATTERNS[spec.skin_tone]
    um = spec.um_per_px
    h, w = img.shape[:2]
    cell = cell_um / um
    gy = np.arange(-cell, h + cell, cell)
    gx = np.arange(-cell, w + cell, cell)
    seeds = np.stack(np.meshgrid(gx, gy), -1).reshape(-1, 2)
    seeds = seeds + rng.uniform(-0.35, 0.35, seeds.shape) * cell
    inside = (seeds[:, 0] >= 0) & (seeds[:, 0] < w) & (seeds[:, 1] >= 0) & (seeds[:, 1] < h)
    seeds = seeds[inside]
    # nearest seed of every pixel (distance transform with labels), then the cell boundaries
    marks = np.ones((h, w), np.uint8)
    ix = seeds[:, 0].astype(int)
    iy = seeds[:, 1].astype(int)
    marks[iy, ix] = 0
    _, labels = cv2.distanceTransformWithLabels(
        marks, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    edge = np.zeros((h, w), bool)
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edge[1:, :] |= labels[1:, :] != labels[:-1, :]
    d = cv2.distanceTransform((~edge).astype(np.uint8), cv2.DIST_L2, 5)
    half_width = 25.0 / um
    line = np.exp(-0.5 * (d / half_width) ** 2).astype(np.float32)
    # the network's strength wanders over the field (reticular, patchy pigmentation)
    lo = rng.normal(0, 1, (h // 96 + 2, w // 96 + 2)).astype(np.float32)
    patch = np.asarray(cv2.resize(lo, (w, h), interpolation=cv2.INTER_CUBIC), dtype=np.float32)
    amount = strength * np.clip(1.0 + 0.35 * patch, 0.3, 1.7)
    img *= (1.0 - amount * line)[:, :, None]
    # pinpoint white dots
    n = int(rng.poisson(dots_per_cm2 * h * w * (um * 1e-4) ** 2))
    pale = np.array([235.0, 215.0, 200.0], np.float32)
    for _ in range(n):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(20.0, 55.0) / um / 1.5
        a = rng.uniform(0.3, 0.6)
        g = gaussian_patch((h, w), x, y, r)
        if g is None:
            continue
        where, v = g
        v = np.minimum(1.0, 1.6 * v)
        img[where] += (pale - img[where]) * (a * v)[:, :, None]


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


def draw_ostia(img: np.ndarray, ostia: list[Ostium], offset: float, white: bool = False) -> None:
    """Darken ``img`` in place at each ostium, shifted by ``offset`` pixels on both axes.

    With ``white`` (skin of colour) the openings are pale pinpoint dots instead.
    """
    pale = np.array([235.0, 215.0, 200.0], np.float32)
    for x, y, r, depth in ostia:
        if white:
            patch = gaussian_patch(img.shape[:2], x + offset, y + offset, 0.6 * r)
            if patch is not None:
                where, g = patch
                img[where] += (pale - img[where]) * (2.0 * depth * g)[:, :, None]
            continue
        patch = gaussian_patch(img.shape[:2], x + offset, y + offset, r)
        if patch is not None:
            where, g = patch
            img[where] *= (1.0 - depth * g)[:, :, None]
