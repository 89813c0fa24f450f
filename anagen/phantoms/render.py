"""Synthetic trichoscopy images of clipped scalp hair with exact ground truth.

Hairs are rendered with *analytic anti-aliased coverage*: the opacity of a pixel is
``clip(r - d + 0.5, 0, 1)`` where ``d`` is the distance of the pixel centre to the hair
centreline and ``r`` the hair radius in pixels. Summed across a straight hair this coverage is
exactly the hair width, so diameters in the ground truth are exact before blur and noise.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from anagen.trichometry.frame import CountingFrame, is_counted

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
    skin_tone : one of ``light, medium, dark``.
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

    def to_dict(self) -> dict:
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


# ---------------------------------------------------------------------------------------------
# geometry


def hair_polyline(h: HairSpec, um_per_px: float, step_px: float = 3.0) -> np.ndarray:
    """Centreline of a hair as an (N, 2) array of ``(x, y)`` from follicle to cut tip."""
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


def _stroke_coverage(
    poly: np.ndarray, radius: float, shape: tuple[int, int]
) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """Analytic coverage of a round-capped stroke, cropped to its bounding box."""
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


def _random_hairs(spec: PhantomSpec, rng: np.random.Generator) -> list[HairSpec]:
    """Random hair population for ``spec`` (proximal ends also outside the image)."""
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
            col = tuple(float(c + shift + rng.normal(0, 2.0)) for c in colour0)
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


# ---------------------------------------------------------------------------------------------
# rendering


def _skin(spec: PhantomSpec, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    h, w = shape
    base = np.array(SKIN_TONES[spec.skin_tone], dtype=np.float32)
    base = base * rng.uniform(0.94, 1.06)
    # low-frequency mottling and illumination fall-off
    lo = rng.normal(0, 1, (h // 64 + 2, w // 64 + 2)).astype(np.float32)
    lo = cv2.resize(cv2.GaussianBlur(lo, (0, 0), 1.0), (w, h), interpolation=cv2.INTER_CUBIC)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    vign = 1.0 - 0.08 * (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2) * 4
    fine = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.5)
    fine *= 1.0 / max(float(fine.std()), 1e-6)
    shade = vign * (1.0 + 0.05 * lo / max(float(lo.std()), 1e-6) + 0.02 * fine)
    img = base[None, None, :] * shade[:, :, None]
    return img


def _ostium(img: np.ndarray, x: float, y: float, r: float, depth: float) -> None:
    h, w = img.shape[:2]
    x0, x1 = max(int(x - 3 * r), 0), min(int(x + 3 * r) + 1, w)
    y0, y1 = max(int(y - 3 * r), 0), min(int(y + 3 * r) + 1, h)
    if x1 <= x0 or y1 <= y0:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    g = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * r * r))
    img[y0:y1, x0:x1] *= (1.0 - depth * g)[:, :, None]


def _specular(img: np.ndarray, rng: np.random.Generator, n: int) -> None:
    h, w = img.shape[:2]
    for _ in range(n):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(1.5, 5.0)
        a = rng.uniform(0.25, 0.7)
        x0, x1 = max(int(x - 3 * r), 0), min(int(x + 3 * r) + 1, w)
        y0, y1 = max(int(y - 3 * r), 0), min(int(y + 3 * r) + 1, h)
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        g = a * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * r * r))
        img[y0:y1, x0:x1] += (255.0 - img[y0:y1, x0:x1]) * g[:, :, None]


def _render_scene(
    spec: PhantomSpec,
    hairs: list[HairSpec],
    ostia: list[tuple[float, float, float, float]],
    transform: tuple[float, float, float],
    rng_scene: np.random.Generator,
    rng_shot: np.random.Generator,
) -> np.ndarray:
    """Render skin, ostia and hairs on a padded canvas, move it by ``transform`` and crop."""
    pad = 48
    H, W = spec.height + 2 * pad, spec.width + 2 * pad
    img = _skin(spec, (H, W), rng_scene)
    um = spec.um_per_px
    for x, y, r, depth in ostia:
        _ostium(img, x + pad, y + pad, r, depth)
    colour0 = HAIR_COLOURS[spec.hair_colour][0]
    for h in hairs:
        poly = hair_polyline(h, um) + pad
        res = _stroke_coverage(poly, 0.5 * h.diameter_um / um, (H, W))
        if res is None:
            continue
        (y0, y1, x0, x1), cov = res
        a = (cov * h.opacity)[:, :, None]
        col = np.array(h.colour if h.colour is not None else colour0, dtype=np.float32)
        sub = img[y0:y1, x0:x1]
        sub *= 1.0 - a
        sub += a * col[None, None, :]
    dx, dy, rot = transform
    if dx or dy or rot:
        cx, cy = pad + spec.width / 2.0, pad + spec.height / 2.0
        m = cv2.getRotationMatrix2D((cx, cy), -rot, 1.0)
        m[0, 2] += dx
        m[1, 2] += dy
        img = cv2.warpAffine(img, m, (W, H), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    img = img[pad : pad + spec.height, pad : pad + spec.width]
    _specular(img, rng_shot, int(rng_shot.integers(15, 50)))
    if spec.blur_sigma_px > 0:
        img = cv2.GaussianBlur(img, (0, 0), spec.blur_sigma_px)
    if spec.noise_sigma > 0:
        img = img + rng_shot.normal(0, spec.noise_sigma, img.shape).astype(np.float32)
    out = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    if spec.jpeg_quality is not None:
        ok, buf = cv2.imencode(
            ".jpg", out[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(spec.jpeg_quality)]
        )
        if not ok:  # pragma: no cover
            raise RuntimeError("JPEG encoding failed")
        out = cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1].copy()
    return out


def _apply_transform(
    poly: np.ndarray, spec: PhantomSpec, transform: tuple[float, float, float]
) -> np.ndarray:
    dx, dy, rot = transform
    if not (dx or dy or rot):
        return poly
    cx, cy = spec.width / 2.0, spec.height / 2.0
    m = cv2.getRotationMatrix2D((cx, cy), -rot, 1.0)
    m[0, 2] += dx
    m[1, 2] += dy
    return poly @ m[:, :2].T + m[:, 2]


def _truth(
    spec: PhantomSpec,
    hairs: list[HairSpec],
    transform: tuple[float, float, float],
    keys: list[int] | None = None,
) -> GroundTruth:
    frame = CountingFrame.for_shape((spec.height, spec.width))
    out = []
    for i, h in enumerate(hairs):
        poly = _apply_transform(hair_polyline(h, spec.um_per_px), spec, transform)
        r = 0.5 * h.diameter_um / spec.um_per_px
        inside = (
            (poly[:, 0] > -r)
            & (poly[:, 0] < spec.width + r)
            & (poly[:, 1] > -r)
            & (poly[:, 1] < spec.height + r)
        )
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
                visible=bool(inside.any()),
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


def _ostia(spec: PhantomSpec, hairs: list[HairSpec]) -> list[tuple[float, float, float, float]]:
    """Follicle ostia (x, y, radius px, depth): one per unit plus ~30 % empty ones."""
    um = spec.um_per_px
    units: dict[int, HairSpec] = {}
    for h in hairs:
        units.setdefault(h.unit_id, h)
    out = []
    for uid, u in units.items():
        rng = np.random.default_rng([spec.seed, 5, uid + 1])
        out.append((u.x, u.y, rng.uniform(25, 45) / um, rng.uniform(0.08, 0.2)))
    rng = np.random.default_rng([spec.seed, 6])
    for _ in range(int(len(units) * 0.3)):
        out.append(
            (
                rng.uniform(0, spec.width),
                rng.uniform(0, spec.height),
                rng.uniform(25, 45) / um,
                rng.uniform(0.08, 0.2),
            )
        )
    return out


def _hairs_for(spec: PhantomSpec) -> list[HairSpec]:
    if spec.hairs is not None:
        return list(spec.hairs)
    return _random_hairs(spec, np.random.default_rng([spec.seed, 1]))


def _visible(spec: PhantomSpec, hairs: list[HairSpec]) -> list[HairSpec]:
    keep = []
    for h in hairs:
        p = hair_polyline(h, spec.um_per_px)
        r = 0.5 * h.diameter_um / spec.um_per_px + 60
        if (
            (p[:, 0] > -r)
            & (p[:, 0] < spec.width + r)
            & (p[:, 1] > -r)
            & (p[:, 1] < spec.height + r)
        ).any():
            keep.append(h)
    return keep


def render_phantom(spec: PhantomSpec) -> tuple[np.ndarray, GroundTruth]:
    """Render one synthetic trichoscopy image.

    Parameters
    ----------
    spec : PhantomSpec
        Options; the result is a deterministic function of ``spec``.

    Returns
    -------
    image : (H, W, 3) uint8 RGB array.
    truth : GroundTruth with every hair that touches the image.
    """
    hairs = _visible(spec, _hairs_for(spec))
    noise_seed = spec.seed if spec.noise_seed is None else spec.noise_seed
    img = _render_scene(
        spec,
        hairs,
        _ostia(spec, hairs),
        (0.0, 0.0, 0.0),
        np.random.default_rng([spec.seed, 2]),
        np.random.default_rng([noise_seed, 3, 0]),
    )
    return img, _truth(spec, hairs, (0.0, 0.0, 0.0))


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
    """
    rng = np.random.default_rng([spec.seed, 4])
    hairs0 = _visible(spec, _hairs_for(spec))
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
    noise_seed = spec.seed if spec.noise_seed is None else spec.noise_seed
    ostia = _ostia(spec, hairs0)
    day0 = _render_scene(
        spec,
        hairs0,
        ostia,
        (0.0, 0.0, 0.0),
        np.random.default_rng([spec.seed, 2]),
        np.random.default_rng([noise_seed, 3, 0]),
    )
    dayn = _render_scene(
        spec,
        hairsn,
        ostia,
        transform,
        np.random.default_rng([spec.seed, 2]),
        np.random.default_rng([noise_seed, 3, 1]),
    )
    return PhantomPair(
        day0=day0,
        dayn=dayn,
        truth0=_truth(spec, hairs0, (0.0, 0.0, 0.0)),
        truthn=_truth(spec, hairsn, transform, keys),
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
