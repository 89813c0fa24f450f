"""Result types of the trichometry engine (frozen dataclasses, JSON via ``to_dict``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from anagen.trichometry.frame import CountingFrame

# bumped whenever an output changes for the same image (stored with every analysis)
ALGORITHM_VERSION = "anagen-trichometry/1.3.0"


@dataclass(frozen=True)
class QualityFlag:
    """One named quality check: ``ok`` is False when the image should be re-taken or reviewed."""

    name: str
    value: float
    threshold: float
    ok: bool
    message: str


@dataclass(frozen=True)
class Hair:
    """One detected hair.

    Attributes
    ----------
    id : int
        Index in :attr:`TrichometryResult.hairs`.
    polyline : tuple of tuple of float
        Centreline in full-resolution pixel coordinates ``((x, y), ...)``.
    length_um, diameter_um : float
        Measured shaft length and diameter.
    kind : str
        ``"terminal"`` or ``"vellus"``.
    counted : bool
        Counted under the counting-frame rule.
    unit_id : int
        Follicular-unit group (hairs sharing an ostium share it), -1 for a single hair.
    """

    id: int
    polyline: tuple[tuple[float, float], ...]
    length_um: float
    diameter_um: float
    kind: str
    counted: bool
    unit_id: int


@dataclass(frozen=True)
class TrichometryResult:
    """Everything measured on one image. Counts and statistics refer to *counted* hairs."""

    hairs: tuple[Hair, ...]
    hair_count: int
    area_cm2: float
    density_per_cm2: float
    terminal_count: int
    vellus_count: int
    vellus_max_um: float
    mean_diameter_um: float | None
    median_diameter_um: float | None
    diameters_um: tuple[float, ...]
    diameter_histogram: tuple[tuple[float, float, int], ...]
    cumulative_thickness_mm_per_cm2: float
    follicular_units: tuple[tuple[int, ...], ...]
    quality: tuple[QualityFlag, ...]
    um_per_px: float
    image_shape: tuple[int, int]
    frame: CountingFrame
    algorithm_version: str = ALGORITHM_VERSION
    timings_ms: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def quality_ok(self) -> bool:
        return all(f.ok for f in self.quality)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrichometryResult:
        """Rebuild a result from :meth:`to_dict` (with its hairs), e.g. a stored analysis.

        Parameters
        ----------
        d : dict
            ``to_dict(include_hairs=True)`` output (centrelines rounded to 0.1 px).

        Returns
        -------
        TrichometryResult
            Timings are not kept.

        Raises
        ------
        KeyError
            When ``d`` lacks a field (e.g. it was written without its hairs).
        """
        hairs = tuple(
            Hair(
                id=int(h["id"]),
                polyline=tuple((float(x), float(y)) for x, y in h["polyline"]),
                length_um=float(h["length_um"]),
                diameter_um=float(h["diameter_um"]),
                kind=str(h["kind"]),
                counted=bool(h["counted"]),
                unit_id=int(h["unit_id"]),
            )
            for h in d["hairs"]
        )
        shape = d["image_shape"]
        return cls(
            hairs=hairs,
            hair_count=int(d["hair_count"]),
            area_cm2=float(d["area_cm2"]),
            density_per_cm2=float(d["density_per_cm2"]),
            terminal_count=int(d["terminal_count"]),
            vellus_count=int(d["vellus_count"]),
            vellus_max_um=float(d["vellus_max_um"]),
            mean_diameter_um=d["mean_diameter_um"],
            median_diameter_um=d["median_diameter_um"],
            diameters_um=tuple(float(x) for x in d["diameters_um"]),
            diameter_histogram=tuple(
                (float(b["from_um"]), float(b["to_um"]), int(b["count"]))
                for b in d["diameter_histogram"]
            ),
            cumulative_thickness_mm_per_cm2=float(d["cumulative_thickness_mm_per_cm2"]),
            follicular_units=tuple(tuple(int(i) for i in u) for u in d["follicular_units"]),
            quality=tuple(QualityFlag(**f) for f in d["quality"].values()),
            um_per_px=float(d["um_per_px"]),
            image_shape=(int(shape[0]), int(shape[1])),
            frame=CountingFrame(**d["counting_frame"]),
            algorithm_version=str(d["algorithm_version"]),
        )

    def to_dict(self, include_hairs: bool = True) -> dict[str, Any]:
        """JSON-ready dictionary (``json.dumps`` works on it directly)."""
        d: dict[str, Any] = {
            "hair_count": self.hair_count,
            "area_cm2": round(self.area_cm2, 6),
            "density_per_cm2": round(self.density_per_cm2, 3),
            "terminal_count": self.terminal_count,
            "vellus_count": self.vellus_count,
            "vellus_max_um": self.vellus_max_um,
            "mean_diameter_um": _r(self.mean_diameter_um),
            "median_diameter_um": _r(self.median_diameter_um),
            "diameters_um": [round(x, 2) for x in self.diameters_um],
            "diameter_histogram": [
                {"from_um": a, "to_um": b, "count": c} for a, b, c in self.diameter_histogram
            ],
            "cumulative_thickness_mm_per_cm2": round(self.cumulative_thickness_mm_per_cm2, 4),
            "follicular_units": [list(u) for u in self.follicular_units],
            "quality": {f.name: asdict(f) for f in self.quality},
            "quality_ok": self.quality_ok,
            "um_per_px": self.um_per_px,
            "image_shape": list(self.image_shape),
            "counting_frame": asdict(self.frame),
            "algorithm_version": self.algorithm_version,
        }
        if include_hairs:
            d["hairs"] = [
                {
                    "id": h.id,
                    "length_um": round(h.length_um, 1),
                    "diameter_um": round(h.diameter_um, 2),
                    "kind": h.kind,
                    "counted": h.counted,
                    "unit_id": h.unit_id,
                    "polyline": [[round(x, 1), round(y, 1)] for x, y in h.polyline],
                }
                for h in self.hairs
            ]
        return d


def _r(x: float | None, nd: int = 2) -> float | None:
    return None if x is None else round(float(x), nd)
