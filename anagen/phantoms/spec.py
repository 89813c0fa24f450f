"""What a phantom is made of: its options, the hairs to draw and the exact ground truth."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from anagen.trichometry.frame import CountingFrame

__all__ = [
    "HAIR_COLOURS",
    "SKIN_PATTERNS",
    "SKIN_TONES",
    "VELLUS_MAX_UM",
    "GroundTruth",
    "HairSpec",
    "PhantomPair",
    "PhantomSpec",
    "TruthHair",
]

HAIR_COLOURS: dict[str, tuple[tuple[float, float, float], float]] = {
    # name: (RGB, per-hair jitter)
    "black": ((28.0, 24.0, 22.0), 8.0),
    "brown": ((88.0, 58.0, 38.0), 12.0),
    "blond": ((196.0, 160.0, 104.0), 10.0),
    "grey": ((214.0, 212.0, 208.0), 8.0),
}
SKIN_TONES: dict[str, tuple[float, float, float]] = {
    "light": (226.0, 192.0, 172.0),
    "medium": (188.0, 140.0, 110.0),
    "dark": (112.0, 76.0, 58.0),
    # skin of colour with its dermoscopic pattern (see SKIN_PATTERNS)
    "tan": (176.0, 124.0, 92.0),
    "deep": (96.0, 64.0, 48.0),
}
SKIN_PATTERNS: dict[str, tuple[float, float, float]] = {
    # tone: (pigment-network darkening of its lines 0-1, network cell size um,
    #        pinpoint white dots per cm2 (eccrine openings; empty follicular openings are white too))
    # Dermoscopy of dark and sun-exposed scalp: a honeycomb pigment network (pigmented rete
    # ridges around paler papillae, cells of ~0.2-0.4 mm) and regularly spaced pinpoint white
    # dots of ~0.1 mm (eccrine ducts, ~150-200 per cm2 on the scalp, and follicular openings).
    # "light", "medium" and "dark" stay plain skin (the golden images rely on them).
    "tan": (0.10, 280.0, 60.0),
    "deep": (0.22, 260.0, 180.0),
}
VELLUS_MAX_UM = 40.0


@dataclass(frozen=True)
class HairSpec:
    """One hair to render, in image pixel coordinates.

    Attributes
    ----------
    x, y : proximal (follicle) end in pixels.
    angle_deg : direction of growth at the follicle (0 = +x, 90 = +y).
    length_um : visible shaft length in micrometres.
    diameter_um : shaft diameter in micrometres.
    curvature_per_mm : change of direction in radians per millimetre of shaft.
    colour : RGB of the shaft or ``None`` for the spec's hair colour.
    opacity : 0..1 opacity of the shaft.
    unit_id : follicular-unit id (hairs sharing an ostium share it).
    anagen : True if the hair is growing (for regrowth pairs).
    """

    x: float
    y: float
    angle_deg: float
    length_um: float
    diameter_um: float
    curvature_per_mm: float = 0.0
    colour: tuple[float, float, float] | None = None
    opacity: float = 0.92
    unit_id: int = -1
    anagen: bool = True


@dataclass(frozen=True)
class PhantomSpec:
    """Options of a synthetic trichoscopy image.

    Attributes
    ----------
    width, height : image size in pixels.
    um_per_px : calibration.
    density_per_cm2 : hair density (hairs, not units) per cm^2.
    vellus_fraction : fraction of hairs that are vellus (15-40 um), the rest terminal (45-110 um).
    hair_colour : one of ``black, brown, blond, grey``.
    skin_tone : one of ``light, medium, dark`` (plain skin) or ``tan, deep`` (skin of colour:
        honeycomb pigment network and pinpoint white dots, see ``SKIN_PATTERNS``).
    crossings : allow hairs to overlap/cross; when False hairs are placed without touching.
    units : group hairs into 2-3-hair follicular units sharing one ostium.
    blur_sigma_px : Gaussian optical blur.
    noise_sigma : additive Gaussian sensor noise (grey levels).
    jpeg_quality : JPEG round trip quality, or ``None`` for lossless.
    seed : random seed; everything is deterministic given the spec.
    noise_seed : seed of the sensor noise only (``None`` = derived from ``seed``); lets the same
        scene be re-imaged with different noise.
    anagen_fraction : fraction of growing hairs (used by regrowth pairs).
    hairs : explicit hairs to render instead of random ones (e.g. from a follicle simulation).
    """

    width: int = 1632
    height: int = 1224
    um_per_px: float = 6.0
    density_per_cm2: float = 150.0
    vellus_fraction: float = 0.2
    hair_colour: str = "black"
    skin_tone: str = "light"
    crossings: bool = True
    units: bool = True
    blur_sigma_px: float = 0.8
    noise_sigma: float = 3.0
    jpeg_quality: int | None = None
    seed: int = 0
    noise_seed: int | None = None
    anagen_fraction: float = 0.85
    hairs: tuple[HairSpec, ...] | None = None

    def __post_init__(self) -> None:
        if self.hair_colour not in HAIR_COLOURS:
            raise ValueError(f"hair_colour must be one of {sorted(HAIR_COLOURS)}")
        if self.skin_tone not in SKIN_TONES:
            raise ValueError(f"skin_tone must be one of {sorted(SKIN_TONES)}")
        if self.um_per_px <= 0 or self.width < 16 or self.height < 16:
            raise ValueError("invalid image size or calibration")


@dataclass(frozen=True)
class TruthHair:
    """Ground truth of one rendered hair (pixel coordinates of the full, unclipped shaft)."""

    id: int
    polyline: tuple[tuple[float, float], ...]
    diameter_um: float
    length_um: float
    kind: str
    unit_id: int
    counted: bool
    anagen: bool
    visible: bool
    key: int = -1  # stable identity of the hair across a day-0 / day-N pair


@dataclass(frozen=True)
class GroundTruth:
    """Exact ground truth of a phantom image."""

    spec: PhantomSpec
    hairs: tuple[TruthHair, ...]
    frame: CountingFrame
    area_cm2: float
    transform: tuple[float, float, float] = (0.0, 0.0, 0.0)  # dx px, dy px, rotation deg

    @property
    def counted(self) -> list[TruthHair]:
        """Hairs counted under the counting-frame rule."""
        return [h for h in self.hairs if h.counted]

    @property
    def hair_count(self) -> int:
        return len(self.counted)

    @property
    def density_per_cm2(self) -> float:
        return self.hair_count / self.area_cm2 if self.area_cm2 > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        spec = asdict(self.spec)
        spec["hairs"] = None if self.spec.hairs is None else [asdict(h) for h in self.spec.hairs]
        return {
            "spec": spec,
            "frame": asdict(self.frame),
            "area_cm2": self.area_cm2,
            "hair_count": self.hair_count,
            "density_per_cm2": self.density_per_cm2,
            "transform": list(self.transform),
            "hairs": [{**asdict(h), "polyline": [list(p) for p in h.polyline]} for h in self.hairs],
        }

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=1)
        if path is not None:
            Path(path).write_text(text)
        return text


@dataclass(frozen=True)
class PhantomPair:
    """A day-0 / day-N regrowth pair of the same site."""

    day0: np.ndarray
    dayn: np.ndarray
    truth0: GroundTruth
    truthn: GroundTruth
    days: float
    growth_um_per_day: float = 300.0
    shed_ids: tuple[int, ...] = field(default_factory=tuple)

    @property
    def anagen_count(self) -> int:
        return sum(1 for h in self.truth0.counted if h.anagen)

    @property
    def telogen_count(self) -> int:
        return sum(1 for h in self.truth0.counted if not h.anagen)

    @property
    def anagen_fraction(self) -> float:
        n = self.anagen_count + self.telogen_count
        return self.anagen_count / n if n else 0.0
