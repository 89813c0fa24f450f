"""The hairs of a phantom: where they grow, which reach the image, and their ground truth."""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np

from anagen.trichometry.frame import CountingFrame, is_counted

from .optics import Transform, move_points
from .spec import (
    HAIR_COLOURS,
    VELLUS_MAX_UM,
    GroundTruth,
    HairSpec,
    PhantomSpec,
    TruthHair,
)

__all__ = ["ground_truth", "hair_polyline", "hairs_for", "random_hairs", "visible_hairs"]


def hair_polyline(h: HairSpec, um_per_px: float, step_px: float = 3.0) -> np.ndarray:
    """Centreline of a hair from follicle to cut tip.

    Parameters
    ----------
    h : HairSpec
    um_per_px : float
        Calibration.
    step_px : float, default 3.0
        Spacing of the points along the shaft.

    Returns
    -------
    ndarray
        ``(N, 2)`` array of ``(x, y)`` in pixels, ``N >= 2``.
    """
    length_px = max(h.length_um / um_per_px, 1.0)
    n = max(2, math.ceil(length_px / step_px) + 1)
    s = np.linspace(0.0, length_px, n)
    kappa = h.curvature_per_mm * um_per_px / 1000.0  # rad per px
    theta = math.radians(h.angle_deg) + kappa * s
    ds = np.diff(s)
    mid = 0.5 * (theta[1:] + theta[:-1])
    x = h.x + np.concatenate([[0.0], np.cumsum(np.cos(mid) * ds)])
    y = h.y + np.concatenate([[0.0], np.cumsum(np.sin(mid) * ds)])
    return np.stack([x, y], axis=1)


def random_hairs(spec: PhantomSpec, rng: np.random.Generator) -> list[HairSpec]:
    """Random hair population for ``spec`` (proximal ends also outside the image).

    Parameters
    ----------
    spec : PhantomSpec
        Density, vellus fraction, colour, units and crossings.
    rng : numpy.random.Generator

    Returns
    -------
    list of HairSpec
    """
    um = spec.um_per_px
    max_len_px = 1600.0 / um
    margin = max_len_px
    ext_w, ext_h = spec.width + 2 * margin, spec.height + 2 * margin
    area_cm2 = ext_w * ext_h * (um * 1e-4) ** 2
    n_hairs = int(rng.poisson(spec.density_per_cm2 * area_cm2))
    base_dir = rng.uniform(0, 360)
    colour0, jitter = HAIR_COLOURS[spec.hair_colour]
    hairs: list[HairSpec] = []
    occ = np.zeros((int(ext_h / 4) + 2, int(ext_w / 4) + 2), np.uint8)
    gap = math.ceil(2 * (110.0 / um + 4.0) / 4.0) + 1
    unit = 0
    attempts = 0
    while len(hairs) < n_hairs and attempts < n_hairs * 60:
        attempts += 1
        k = 1
        if spec.units:
            k = int(rng.choice([1, 2, 3], p=[0.45, 0.4, 0.15]))
        k = min(k, n_hairs - len(hairs))
        x = rng.uniform(-margin, spec.width + margin)
        y = rng.uniform(-margin, spec.height + margin)
        theta = base_dir + rng.normal(0, 35)
        offsets = [0.0] if k == 1 else list(np.linspace(-1, 1, k) * rng.uniform(6, 14) * (k - 1))
        unit_hairs = []
        for off in offsets:
            vellus = rng.random() < spec.vellus_fraction
            if vellus:
                dia = rng.uniform(15.0, 40.0)
                length = rng.uniform(300.0, 900.0)
                opacity = rng.uniform(0.55, 0.85)
            else:
                dia = rng.uniform(45.0, 110.0)
                length = rng.uniform(500.0, 1500.0)
                opacity = rng.uniform(0.8, 0.97)
            shift = rng.normal(0, jitter)
            rgb = [float(c + shift + rng.normal(0, 2.0)) for c in colour0]
            col = (rgb[0], rgb[1], rgb[2])
            unit_hairs.append(
                HairSpec(
                    x=float(x),
                    y=float(y),
                    angle_deg=float(theta + off + rng.normal(0, 2)),
                    length_um=float(length),
                    diameter_um=float(dia),
                    curvature_per_mm=float(rng.normal(0, 0.25)),
                    colour=col,
                    opacity=float(opacity),
                    unit_id=unit,
                    anagen=bool(rng.random() < spec.anagen_fraction),
                )
            )
        if not spec.crossings:
            # reject units that would touch hairs already placed (units touch only at the ostium);
            # the check uses the shaft grown by 700 um so regrowth pairs stay crossing-free too
            grown = [
                hair_polyline(replace(h, length_um=h.length_um + 700.0), um) for h in unit_hairs
            ]
            pts = (np.concatenate(grown) + margin) / 4.0
            ix = np.clip(pts[:, 0].astype(int), 0, occ.shape[1] - 1)
            iy = np.clip(pts[:, 1].astype(int), 0, occ.shape[0] - 1)
            if occ[iy, ix].any():
                continue
            for g in grown:
                q = np.rint((g + margin) / 4.0 * 16).astype(np.int32)
                cv2.polylines(occ, [q], False, 1, thickness=gap, shift=4)
        hairs.extend(unit_hairs)
        unit += 1
    return hairs


def hairs_for(spec: PhantomSpec) -> list[HairSpec]:
    """The spec's explicit hairs, or a random population drawn from its seed."""
    if spec.hairs is not None:
        return list(spec.hairs)
    return random_hairs(spec, np.random.default_rng([spec.seed, 1]))


def _near_image(poly: np.ndarray, spec: PhantomSpec, margin: float) -> np.ndarray:
    """Which points of ``poly`` lie within ``margin`` pixels of the image."""
    return (
        (poly[:, 0] > -margin)
        & (poly[:, 0] < spec.width + margin)
        & (poly[:, 1] > -margin)
        & (poly[:, 1] < spec.height + margin)
    )


def visible_hairs(spec: PhantomSpec, hairs: list[HairSpec]) -> list[HairSpec]:
    """The hairs that come within 60 px of the image (the others are never drawn)."""
    keep = []
    for h in hairs:
        p = hair_polyline(h, spec.um_per_px)
        if _near_image(p, spec, 0.5 * h.diameter_um / spec.um_per_px + 60).any():
            keep.append(h)
    return keep


def ground_truth(
    spec: PhantomSpec,
    hairs: list[HairSpec],
    transform: Transform,
    keys: list[int] | None = None,
) -> GroundTruth:
    """Exact ground truth of the hairs as imaged after ``transform``.

    Parameters
    ----------
    spec : PhantomSpec
    hairs : list of HairSpec
    transform : tuple of float
        ``(dx, dy, rotation_deg)`` of the shot.
    keys : list of int, optional
        Identity of each hair across a pair (default: its index).

    Returns
    -------
    GroundTruth
        Only the hairs that touch the image, renumbered from 0.
    """
    frame = CountingFrame.for_shape((spec.height, spec.width))
    out = []
    for i, h in enumerate(hairs):
        poly = move_points(hair_polyline(h, spec.um_per_px), spec, transform)
        r = 0.5 * h.diameter_um / spec.um_per_px
        out.append(
            TruthHair(
                id=i,
                polyline=tuple((round(float(x), 3), round(float(y), 3)) for x, y in poly),
                diameter_um=float(h.diameter_um),
                length_um=float(h.length_um),
                kind="vellus" if h.diameter_um <= VELLUS_MAX_UM else "terminal",
                unit_id=int(h.unit_id),
                counted=is_counted(poly, frame),
                anagen=bool(h.anagen),
                visible=bool(_near_image(poly, spec, r).any()),
                key=i if keys is None else keys[i],
            )
        )
    # keep only hairs that touch the image
    visible = [h for h in out if h.visible]
    visible = [replace(h, id=i) for i, h in enumerate(visible)]
    area_cm2 = frame.area_px * (spec.um_per_px * 1e-4) ** 2
    return GroundTruth(
        spec=spec, hairs=tuple(visible), frame=frame, area_cm2=area_cm2, transform=transform
    )
