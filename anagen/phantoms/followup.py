"""Baseline / follow-up pairs of one target site with exact truth of every hair's fate.

The site is a fixed population of follicles (the same skin, ostia and follicle positions in
both shots). At baseline some follicles carry no visible hair; between the visits some hairs
are lost and some follicles grow a new hair, and every hair is clipped again at a new length.
The follow-up is a new photograph: the camera moved by tens of pixels and a few degrees,
with its own exposure, blur, noise and JPEG quality.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np

from .hairs import ground_truth, hair_polyline, hairs_for
from .render import shoot
from .skin import ostia_for
from .spec import GroundTruth, HairSpec, PhantomSpec

__all__ = [
    "FollowUpChange",
    "FollowUpPair",
    "TrueChange",
    "carried_from_snapshots",
    "render_followup",
    "true_change",
]

_PAD = 160  # canvas margin: a follow-up moved by 40 px and 3 degrees still has real pixels


@dataclass(frozen=True)
class FollowUpChange:
    """How the site and the camera change between baseline and follow-up.

    Attributes
    ----------
    lost_fraction : float
        Share of the baseline hairs gone at follow-up.
    new_fraction : float
        Share of the site's follicles (empty at baseline) that carry a new hair at follow-up.
    max_shift_px, max_rotation_deg : float
        Bounds of the random camera move of the follow-up shot (about the image centre).
    exposure : tuple of float
        Range of the follow-up's exposure gain (baseline is 1).
    blur_sigma_px, noise_sigma : tuple of float
        Ranges of the follow-up's own blur and noise.
    jpeg_qualities : tuple
        Choices of the follow-up's JPEG quality (``None`` = lossless).
    reclip : bool
        Clip every persisting hair again at a new random length.
    """

    lost_fraction: float = 0.1
    new_fraction: float = 0.12
    max_shift_px: float = 40.0
    max_rotation_deg: float = 3.0
    exposure: tuple[float, float] = (0.85, 1.15)
    blur_sigma_px: tuple[float, float] = (0.5, 1.5)
    noise_sigma: tuple[float, float] = (2.0, 5.0)
    jpeg_qualities: tuple[int | None, ...] = (None, 90, 75)
    reclip: bool = True

    def __post_init__(self) -> None:
        if not (0.0 <= self.lost_fraction <= 1.0 and 0.0 <= self.new_fraction < 1.0):
            raise ValueError("lost_fraction must be 0-1 and new_fraction 0-<1")


@dataclass(frozen=True)
class FollowUpPair:
    """A baseline and a follow-up photograph of one site with the truth of each hair's fate.

    ``key`` of a ``TruthHair`` is the follicle's index in the site, the same in both truths.
    ``transform`` of the follow-up truth is ``(dx px, dy px, rotation deg)`` about the image
    centre, mapping baseline coordinates to follow-up coordinates.
    """

    baseline: np.ndarray
    followup: np.ndarray
    truth_baseline: GroundTruth
    truth_followup: GroundTruth
    exposure: float

    @property
    def transform(self) -> tuple[float, float, float]:
        return self.truth_followup.transform

    @property
    def lost_keys(self) -> frozenset[int]:
        """Follicles whose hair was seen at baseline and is gone at follow-up."""
        return frozenset(h.key for h in self.truth_baseline.hairs) - frozenset(
            h.key for h in self.truth_followup.hairs
        )

    @property
    def new_keys(self) -> frozenset[int]:
        """Follicles that carry a hair at follow-up only."""
        return frozenset(h.key for h in self.truth_followup.hairs) - frozenset(
            h.key for h in self.truth_baseline.hairs
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready truth of both shots."""
        return {
            "baseline": self.truth_baseline.to_dict(),
            "followup": self.truth_followup.to_dict(),
            "exposure": self.exposure,
            "lost_keys": sorted(self.lost_keys),
            "new_keys": sorted(self.new_keys),
        }


class _HasFollicle(Protocol):
    follicle: int


class _Snapshot(Protocol):
    @property
    def hairs(self) -> Iterable[_HasFollicle]: ...


def carried_from_snapshots(
    before: _Snapshot, after: _Snapshot, n_follicles: int
) -> tuple[frozenset[int], frozenset[int]]:
    """Which follicles carry a hair at each visit, from the follicle model's site snapshots.

    Parameters
    ----------
    before, after : anagen.follicles.cohort.VisitSnapshot
        Anything with ``hairs`` whose items have a ``follicle`` index.
    n_follicles : int
        Size of the phantom's follicle population; model follicles are folded onto it.

    Returns
    -------
    tuple of frozenset of int
        Follicle indices carrying a hair at baseline and at follow-up.
    """
    if n_follicles <= 0:
        raise ValueError("n_follicles must be positive")
    return (
        frozenset(h.follicle % n_follicles for h in before.hairs),
        frozenset(h.follicle % n_follicles for h in after.hairs),
    )


def _near(poly: np.ndarray, spec: PhantomSpec, margin: float) -> bool:
    return bool(
        (
            (poly[:, 0] > -margin)
            & (poly[:, 0] < spec.width + margin)
            & (poly[:, 1] > -margin)
            & (poly[:, 1] < spec.height + margin)
        ).any()
    )


def _clip_length(h: HairSpec, rng: np.random.Generator) -> HairSpec:
    """The same hair clipped again: a new visible length of its kind."""
    if h.diameter_um <= 40.0:
        return replace(h, length_um=float(rng.uniform(300.0, 900.0)))
    return replace(h, length_um=float(rng.uniform(500.0, 1500.0)))


def render_followup(
    spec: PhantomSpec,
    change: FollowUpChange | None = None,
    carried: tuple[Collection[int], Collection[int]] | None = None,
) -> FollowUpPair:
    """Render a baseline and a follow-up photograph of the same target site.

    Parameters
    ----------
    spec : PhantomSpec
        The site (its hairs are the follicle population) and the baseline shot's optics.
    change : FollowUpChange, optional
        Hair turnover and the follow-up's camera; default ``FollowUpChange()``.
    carried : tuple of two collections of int, optional
        Follicle indices carrying a hair at baseline and at follow-up (e.g. from
        :func:`carried_from_snapshots`); by default drawn from ``change``'s fractions.

    Returns
    -------
    FollowUpPair
        Deterministic given ``spec``, ``change`` and ``carried``.
    """
    change = change or FollowUpChange()
    rng = np.random.default_rng([spec.seed, 7])
    um = spec.um_per_px
    follicles = [
        h
        for h in hairs_for(spec)
        if _near(hair_polyline(h, um), spec, _PAD + 0.5 * h.diameter_um / um + 60)
    ]
    n = len(follicles)
    if carried is None:
        new = rng.random(n) < change.new_fraction
        lost = rng.random(n) < change.lost_fraction
        at_baseline = [i for i in range(n) if not new[i]]
        at_followup = [i for i in range(n) if new[i] or not lost[i]]
    else:
        at_baseline = sorted(i for i in set(carried[0]) if 0 <= i < n)
        at_followup = sorted(i for i in set(carried[1]) if 0 <= i < n)
    clip = np.random.default_rng([spec.seed, 8])
    hairs_b = [follicles[i] for i in at_baseline]
    hairs_f = [
        _clip_length(follicles[i], clip) if change.reclip else follicles[i] for i in at_followup
    ]
    transform = (
        float(rng.uniform(-change.max_shift_px, change.max_shift_px)),
        float(rng.uniform(-change.max_shift_px, change.max_shift_px)),
        float(rng.uniform(-change.max_rotation_deg, change.max_rotation_deg)),
    )
    exposure = float(rng.uniform(*change.exposure))
    spec_f = replace(
        spec,
        blur_sigma_px=float(rng.uniform(*change.blur_sigma_px)),
        noise_sigma=float(rng.uniform(*change.noise_sigma)),
        jpeg_quality=change.jpeg_qualities[int(rng.integers(0, len(change.jpeg_qualities)))],
    )
    ostia = ostia_for(spec, follicles)
    still = (0.0, 0.0, 0.0)
    return FollowUpPair(
        baseline=shoot(spec, hairs_b, ostia, still, shot=0, pad=_PAD),
        followup=shoot(spec_f, hairs_f, ostia, transform, shot=1, pad=_PAD, gain=exposure),
        truth_baseline=ground_truth(spec, hairs_b, still, at_baseline),
        truth_followup=ground_truth(spec_f, hairs_f, transform, at_followup),
        exposure=exposure,
    )


@dataclass(frozen=True)
class TrueChange:
    """Exact persisting, lost and new counts of a pair within a common field."""

    persisting: int
    lost: int
    new: int

    @property
    def count_change(self) -> int:
        return self.new - self.lost

    @property
    def baseline_count(self) -> int:
        return self.persisting + self.lost


def _visible_midpoint(poly: np.ndarray, width: int, height: int) -> np.ndarray | None:
    """Midpoint (by arc length) of the part of a true centreline inside the image."""
    from anagen.trichometry.change import midpoint
    from anagen.trichometry.matching import densify

    q = densify(poly, 1.0)
    ok = (q[:, 0] >= 0) & (q[:, 0] < width) & (q[:, 1] >= 0) & (q[:, 1] < height)
    if not ok.any():
        return None
    return midpoint(q[ok])


def true_change(pair: FollowUpPair, field_polygon: np.ndarray) -> TrueChange:
    """Exact counts within ``field_polygon`` (baseline pixels), by the rule the engine uses.

    A hair belongs to the field by the midpoint of its centreline as seen in its own image
    (a persisting hair by its baseline one), the same rule as
    :func:`anagen.trichometry.change.matched_change`.

    Parameters
    ----------
    pair : FollowUpPair
    field_polygon : ndarray, shape (k, 2)
        Convex polygon in baseline pixels (e.g. the engine's ``field_polygon``, or one built
        from the true transform with :func:`anagen.trichometry.change.common_field`).

    Returns
    -------
    TrueChange
    """
    import cv2

    from anagen.trichometry.registration import Registration

    spec_b, spec_f = pair.truth_baseline.spec, pair.truth_followup.spec
    dx, dy, rot = pair.transform
    a = np.radians(rot)
    r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    c = np.array([spec_b.width / 2.0, spec_b.height / 2.0])
    m = np.hstack([r, (c - r @ c + np.array([dx, dy]))[:, None]])
    reg = Registration(m, (float(c[0]), float(c[1])), 0.0, 0, 1.0)
    poly = np.asarray(field_polygon, dtype=np.float32).reshape(-1, 1, 2)

    def inside(pt: np.ndarray | None) -> bool:
        if pt is None or len(poly) < 3:
            return False
        return cv2.pointPolygonTest(poly, (float(pt[0]), float(pt[1])), False) >= 0

    keys_f = {h.key for h in pair.truth_followup.hairs}
    persisting = lost = new = 0
    for h in pair.truth_baseline.hairs:
        if inside(_visible_midpoint(np.asarray(h.polyline), spec_b.width, spec_b.height)):
            if h.key in keys_f:
                persisting += 1
            else:
                lost += 1
    keys_b = {h.key for h in pair.truth_baseline.hairs}
    for h in pair.truth_followup.hairs:
        if h.key in keys_b:
            continue
        mid = _visible_midpoint(np.asarray(h.polyline), spec_f.width, spec_f.height)
        if mid is not None and inside(reg.inverse(mid[None, :])[0]):
            new += 1
    return TrueChange(persisting, lost, new)
