"""Synthetic trichoscopy images of clipped scalp hair with exact ground truth.

Hairs are rendered with *analytic anti-aliased coverage*: the opacity of a pixel is
``clip(r - d + 0.5, 0, 1)`` where ``d`` is the distance of the pixel centre to the hair
centreline and ``r`` the hair radius in pixels. Summed across a straight hair this coverage is
exactly the hair width, so diameters in the ground truth are exact before blur and noise.

The parts live beside this module: :mod:`.spec` (options and ground-truth types),
:mod:`.hairs` (where hairs grow, their truth), :mod:`.skin` (skin and ostia) and
:mod:`.optics` (moves between shots, glare, blur, noise, JPEG).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from .hairs import ground_truth, hair_polyline, hairs_for, visible_hairs
from .optics import Transform, move_image, photograph
from .skin import Ostium, draw_ostia, ostia_for, skin
from .spec import HAIR_COLOURS, SKIN_PATTERNS, GroundTruth, HairSpec, PhantomPair, PhantomSpec

_PAD = 48  # canvas margin so a moved shot has real pixels at its edges
_STILL: Transform = (0.0, 0.0, 0.0)


def _stroke_coverage(
    poly: np.ndarray, radius: float, shape: tuple[int, int]
) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """Analytic coverage of a round-capped stroke, cropped to its bounding box.

    Parameters
    ----------
    poly : ndarray
        ``(N, 2)`` centreline in pixels.
    radius : float
        Half the stroke width in pixels.
    shape : tuple of int
        ``(height, width)`` of the canvas.

    Returns
    -------
    tuple or None
        ``((y0, y1, x0, x1), coverage)`` with coverage in 0..1 over that box, or None when
        the stroke misses the canvas.
    """
    h, w = shape
    pad = radius + 2.0
    x0 = max(math.floor(poly[:, 0].min() - pad), 0)
    x1 = min(math.ceil(poly[:, 0].max() + pad) + 1, w)
    y0 = max(math.floor(poly[:, 1].min() - pad), 0)
    y1 = min(math.ceil(poly[:, 1].max() + pad) + 1, h)
    if x1 <= x0 or y1 <= y0:
        return None
    dist = np.full((y1 - y0, x1 - x0), np.inf, dtype=np.float32)
    for a, b in itertools.pairwise(poly):
        sx0 = max(math.floor(min(a[0], b[0]) - pad), x0)
        sx1 = min(math.ceil(max(a[0], b[0]) + pad) + 1, x1)
        sy0 = max(math.floor(min(a[1], b[1]) - pad), y0)
        sy1 = min(math.ceil(max(a[1], b[1]) + pad) + 1, y1)
        if sx1 <= sx0 or sy1 <= sy0:
            continue
        px = np.arange(sx0, sx1, dtype=np.float32)[None, :] - a[0]
        py = np.arange(sy0, sy1, dtype=np.float32)[:, None] - a[1]
        d = b - a
        dd = float(d @ d) or 1e-12
        t = np.clip((px * d[0] + py * d[1]) / dd, 0.0, 1.0)
        dist2 = (px - t * d[0]) ** 2 + (py - t * d[1]) ** 2
        sub = dist[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0]
        np.minimum(sub, np.sqrt(dist2), out=sub)
    cov = np.clip(radius - dist + 0.5, 0.0, 1.0)
    return (y0, y1, x0, x1), cov


def _draw_hairs(img: np.ndarray, spec: PhantomSpec, hairs: list[HairSpec], offset: float) -> None:
    """Paint ``hairs`` onto ``img`` in place, shifted by ``offset`` pixels on both axes."""
    um = spec.um_per_px
    colour0 = HAIR_COLOURS[spec.hair_colour][0]
    for h in hairs:
        poly = hair_polyline(h, um) + offset
        res = _stroke_coverage(poly, 0.5 * h.diameter_um / um, img.shape[:2])
        if res is None:
            continue
        (y0, y1, x0, x1), cov = res
        a = (cov * h.opacity)[:, :, None]
        col = np.array(h.colour if h.colour is not None else colour0, dtype=np.float32)
        sub = img[y0:y1, x0:x1]
        sub *= 1.0 - a
        sub += a * col[None, None, :]


def shoot(
    spec: PhantomSpec,
    hairs: list[HairSpec],
    ostia: list[Ostium],
    transform: Transform,
    shot: int,
    pad: int = _PAD,
    gain: float = 1.0,
) -> np.ndarray:
    """Render skin, ostia and hairs on a padded canvas, move it by ``transform`` and crop.

    The scene's random stream depends on the seed only, so every shot with the same ``pad``
    shows the same skin; shot ``shot`` has its own glare and sensor noise.

    Parameters
    ----------
    spec : PhantomSpec
    hairs : list of HairSpec
    ostia : list of Ostium
    transform : tuple of float
        ``(dx, dy, rotation_deg)`` of the shot about the image centre.
    shot : int
        Index of the shot (its own noise and glare).
    pad : int, optional
        Canvas margin in pixels (larger for larger camera moves).
    gain : float, optional
        Exposure of the shot relative to the scene.

    Returns
    -------
    ndarray
        ``(H, W, 3)`` uint8 RGB.
    """
    noise_seed = spec.seed if spec.noise_seed is None else spec.noise_seed
    img = skin(
        spec,
        (spec.height + 2 * pad, spec.width + 2 * pad),
        np.random.default_rng([spec.seed, 2]),
    )
    draw_ostia(img, ostia, pad, white=spec.skin_tone in SKIN_PATTERNS)
    _draw_hairs(img, spec, hairs, pad)
    img = move_image(img, (pad + spec.width / 2.0, pad + spec.height / 2.0), transform)
    img = img[pad : pad + spec.height, pad : pad + spec.width]
    if gain != 1.0:
        img = img * np.float32(gain)
    return photograph(img, spec, np.random.default_rng([noise_seed, 3, shot]))


def render_phantom(spec: PhantomSpec) -> tuple[np.ndarray, GroundTruth]:
    """Render one synthetic trichoscopy image.

    Parameters
    ----------
    spec : PhantomSpec
        Options; the result is a deterministic function of ``spec``.

    Returns
    -------
    image : ndarray
        ``(H, W, 3)`` uint8 RGB.
    truth : GroundTruth
        Every hair that touches the image.
    """
    hairs = visible_hairs(spec, hairs_for(spec))
    img = shoot(spec, hairs, ostia_for(spec, hairs), _STILL, shot=0)
    return img, ground_truth(spec, hairs, _STILL)


def render_pair(
    spec: PhantomSpec,
    days: float = 2.0,
    growth_um_per_day: float = 300.0,
    shed_fraction: float = 0.15,
    max_shift_px: float = 20.0,
    max_rotation_deg: float = 1.0,
) -> PhantomPair:
    """Render a day-0 / day-N pair of the same site.

    Anagen hairs are longer on day N by ``growth_um_per_day * days`` (+-15 % per hair), telogen
    hairs are unchanged and ``shed_fraction`` of the telogen hairs are gone. Day N is moved by a
    small random shift and rotation. The ground truth of day 0 carries each hair's anagen flag.

    Parameters
    ----------
    spec : PhantomSpec
    days : float, default 2.0
        Interval between the shots.
    growth_um_per_day : float, default 300.0
        Mean growth of anagen hairs.
    shed_fraction : float, default 0.15
        Share of the telogen hairs shed by day N.
    max_shift_px, max_rotation_deg : float
        Bounds of the random move of day N.

    Returns
    -------
    PhantomPair
    """
    rng = np.random.default_rng([spec.seed, 4])
    hairs0 = visible_hairs(spec, hairs_for(spec))
    hairsn: list[HairSpec] = []
    keys: list[int] = []
    shed: list[int] = []
    for i, h in enumerate(hairs0):
        if h.anagen:
            g = growth_um_per_day * days * rng.uniform(0.85, 1.15)
            hairsn.append(replace(h, length_um=h.length_um + g))
            keys.append(i)
        elif rng.random() < shed_fraction:
            shed.append(i)
        else:
            hairsn.append(h)
            keys.append(i)
    transform = (
        float(rng.uniform(-max_shift_px, max_shift_px)),
        float(rng.uniform(-max_shift_px, max_shift_px)),
        float(rng.uniform(-max_rotation_deg, max_rotation_deg)),
    )
    ostia = ostia_for(spec, hairs0)
    return PhantomPair(
        day0=shoot(spec, hairs0, ostia, _STILL, shot=0),
        dayn=shoot(spec, hairsn, ostia, transform, shot=1),
        truth0=ground_truth(spec, hairs0, _STILL),
        truthn=ground_truth(spec, hairsn, transform, keys),
        days=float(days),
        growth_um_per_day=growth_um_per_day,
        shed_ids=tuple(shed),
    )


def write_image(path: str | Path, image: np.ndarray, jpeg_quality: int | None = None) -> None:
    """Write an RGB uint8 image as PNG (or JPEG when ``jpeg_quality`` is given)."""
    path = Path(path)
    bgr = np.ascontiguousarray(image[:, :, ::-1]) if image.ndim == 3 else image
    params = [] if jpeg_quality is None else [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)]
    if not cv2.imwrite(str(path), bgr, params):
        raise OSError(f"could not write {path}")
