"""Golden test: the engine reproduces its stored output on a fixed phantom set exactly.

The phantoms are regenerated from their specs (fixed seeds, about 0.3 s each); only the
engine's output is stored, in ``golden/``. Every field of :class:`TrichometryResult` (hairs,
polylines, diameters, quality flags, units, frame) and of :class:`AnagenResult` is compared
with ``==`` on the floats as produced: a refactor that changes any bit is caught. The only
field left out is ``timings_ms`` (wall-clock, never reproducible; ``compare=False`` on the
dataclass already). No field needs a tolerance: the engine is deterministic for a given
image (checked by running it twice), and the phantoms are deterministic given their specs.

The floats depend on the pinned NumPy/SciPy/OpenCV/scikit-image builds. After a deliberate
change of the engine's output (or a dependency upgrade that changes it), regenerate with
``python -m tests.trichometry.test_golden`` and say why in the commit message.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

from anagen.phantoms import PhantomSpec, render_pair, render_phantom
from anagen.trichometry import anagen_telogen, analyze

GOLDEN = Path(__file__).parent / "golden" / "engine.json"
SIZE = {"width": 800, "height": 600}


def _spread(i: int) -> dict:
    """A deterministic spread of imaging conditions, as the benchmark draws them."""
    rng = np.random.default_rng([20261, i])
    return {
        "um_per_px": float(rng.choice([5.0, 6.0, 7.0])),
        "density_per_cm2": float(rng.choice([50, 100, 150, 200, 300])),
        "vellus_fraction": float(rng.choice([0.1, 0.2, 0.35])),
        "hair_colour": str(rng.choice(["black", "brown", "blond", "grey"])),
        "skin_tone": str(rng.choice(["light", "medium", "dark"])),
        "blur_sigma_px": float(rng.choice([0.5, 1.0, 1.5])),
        "noise_sigma": float(rng.choice([2.0, 4.0, 6.0])),
        "jpeg_quality": [None, 90, 75][int(rng.integers(0, 3))],
    }


def _cases() -> dict[str, tuple[PhantomSpec, dict]]:
    """name -> (phantom spec, extra keyword arguments of ``analyze``)."""
    cases = {}
    for i in range(14):  # half simple, half with crossings and follicular units
        scene = bool(i % 2)
        spec = PhantomSpec(**SIZE, **_spread(i), crossings=scene, units=scene, seed=500 + i)
        cases[f"spread{i:02d}"] = (spec, {})
    special = {
        # blond hair on dark skin: chroma-only contrast
        "blond_dark": {"hair_colour": "blond", "skin_tone": "dark", "density_per_cm2": 150.0},
        "grey_dark_jpeg75": {"hair_colour": "grey", "skin_tone": "dark", "jpeg_quality": 75},
        # heavy blur and noise: the blur table and the resolution limit
        "blur_heavy": {"blur_sigma_px": 2.5, "noise_sigma": 6.0, "vellus_fraction": 0.35},
        "dense_units": {"density_per_cm2": 350.0, "crossings": True, "units": True},
        # detection scale 1 (12 um/px) and 3 (4 um/px): the pixel mapping off-by-half
        "coarse_12um": {"um_per_px": 12.0, "density_per_cm2": 200.0},
        "fine_4um": {"um_per_px": 4.0, "density_per_cm2": 200.0},
    }
    for k, (name, over) in enumerate(special.items()):
        spec = PhantomSpec(**{**SIZE, "seed": 600 + k, **over})
        cases[name] = (spec, {})
    # non-default analyze arguments
    spec = PhantomSpec(**SIZE, seed=650, density_per_cm2=100.0)
    cases["custom_args"] = (spec, {"vellus_max_um": 30.0, "frame_margin_px": 40.0, "min_hairs": 50})
    return cases


PAIRS = {
    "pair_simple": (PhantomSpec(**SIZE, seed=700, density_per_cm2=250.0, units=False), 2.0),
    "pair_units": (PhantomSpec(**SIZE, seed=701, density_per_cm2=250.0, um_per_px=5.0), 3.0),
}


def _plain(x):
    """Dataclasses/tuples/arrays to JSON values; floats exact, non-finite floats as strings."""
    if dataclasses.is_dataclass(x):
        return {
            f.name: _plain(getattr(x, f.name))
            for f in dataclasses.fields(x)
            if f.name != "timings_ms"
        }
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return _plain(x.tolist())
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return x if math.isfinite(x) else repr(x)
    return x


def _run_case(name: str) -> dict:
    spec, kwargs = _cases()[name]
    img, _ = render_phantom(spec)
    return _plain(analyze(img, spec.um_per_px, **kwargs))


def _run_pair(name: str) -> dict:
    spec, days = PAIRS[name]
    pair = render_pair(spec, days=days)
    return _plain(anagen_telogen(pair.day0, pair.dayn, days=days, um_per_px=spec.um_per_px))


@pytest.fixture(scope="module")
def golden() -> dict:
    """``{"analyze": {name: result}, "anagen_telogen": {name: result}}``."""
    out: dict = {}
    for key, res in json.loads(GOLDEN.read_text()).items():
        group, name = key.split("/")
        out.setdefault(group, {})[name] = res
    return out


@pytest.mark.parametrize("name", sorted(_cases()))
def test_analyze_reproduces_golden(name, golden):
    got = _run_case(name)
    want = golden["analyze"][name]
    assert got["hair_count"] == want["hair_count"]  # the readable failure first
    assert got == want


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_anagen_telogen_reproduces_golden(name, golden):
    got = _run_pair(name)
    want = golden["anagen_telogen"][name]
    assert got["anagen_count"] == want["anagen_count"]
    assert got == want


def test_golden_set_covers_the_conditions(golden):
    specs = [spec for spec, _ in _cases().values()]
    assert len(golden["analyze"]) == len(specs) >= 20
    assert {s.skin_tone for s in specs} == {"light", "medium", "dark"}
    assert {s.hair_colour for s in specs} >= {"black", "blond", "grey"}
    assert any(s.crossings and s.units for s in specs)
    assert sum(v["hair_count"] for v in golden["analyze"].values()) > 200


def main() -> None:
    """Regenerate the golden file (only after a deliberate change of the engine's output)."""
    out = {
        "analyze": {name: _run_case(name) for name in sorted(_cases())},
        "anagen_telogen": {name: _run_pair(name) for name in sorted(PAIRS)},
    }
    GOLDEN.parent.mkdir(exist_ok=True)
    # one case per line: a diff names the cases that changed
    lines = [
        f"  {json.dumps(f'{group}/{name}')}: {json.dumps(res, separators=(',', ':'))}"
        for group, cases in out.items()
        for name, res in cases.items()
    ]
    GOLDEN.write_text("{\n" + ",\n".join(lines) + "\n}\n")
    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
