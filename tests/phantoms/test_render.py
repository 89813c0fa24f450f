"""Phantom rendering: determinism, exact widths, ground truth, regrowth pairs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from anagen.phantoms import HairSpec, PhantomSpec, render_pair, render_phantom
from anagen.phantoms.render import _stroke_coverage, hair_polyline
from anagen.trichometry.frame import CountingFrame, designated_end

SMALL = {"width": 480, "height": 360, "um_per_px": 6.0}


def test_same_seed_same_image_and_truth():
    spec = PhantomSpec(seed=11, jpeg_quality=85, **SMALL)
    a, ta = render_phantom(spec)
    b, tb = render_phantom(spec)
    assert np.array_equal(a, b)
    assert ta.to_json() == tb.to_json()
    c, _tc = render_phantom(PhantomSpec(seed=12, **SMALL))
    assert not np.array_equal(a, c)
    assert a.dtype == np.uint8 and a.shape == (360, 480, 3)


def test_noise_seed_changes_only_the_noise():
    spec = PhantomSpec(seed=3, noise_sigma=4.0, **SMALL)
    a, ta = render_phantom(spec)
    b, tb = render_phantom(PhantomSpec(seed=3, noise_seed=99, noise_sigma=4.0, **SMALL))
    assert [h.polyline for h in ta.hairs] == [h.polyline for h in tb.hairs]
    diff = a.astype(float) - b.astype(float)
    assert 0 < np.abs(diff).mean() < 12


@pytest.mark.parametrize("angle", [0.0, 30.0, 63.0])
@pytest.mark.parametrize("diameter_px", [2.5, 7.0, 15.3])
def test_analytic_coverage_integrates_to_exact_width(angle, diameter_px):
    """Coverage summed across the hair, averaged along it, equals width / cos(angle)."""
    a = math.radians(angle)
    c = np.array([100.0, 100.0])
    d = np.array([math.cos(a), math.sin(a)])
    poly = np.stack([c - 80 * d, c + 80 * d])
    (_y0, _y1, x0, _x1), cov = _stroke_coverage(poly, diameter_px / 2, (200, 200))
    half = int(40 * math.cos(a))
    cols = cov[:, 100 - half - x0 : 100 + half - x0]
    assert cols.sum(axis=0).mean() == pytest.approx(diameter_px / math.cos(a), rel=5e-3)
    if angle == 0.0:  # axis-aligned: every single column is exact
        assert np.allclose(cols.sum(axis=0), diameter_px, rtol=1e-5)


def test_rendered_profile_area_matches_width():
    """Darkness integral across a rendered hair equals width x contrast (no blur/noise)."""
    dia_um = 60.0
    hair = HairSpec(
        x=40,
        y=180,
        angle_deg=0,
        length_um=2000,
        diameter_um=dia_um,
        colour=(20.0, 20.0, 20.0),
        opacity=1.0,
    )
    spec = PhantomSpec(noise_sigma=0, blur_sigma_px=0, hairs=(hair,), seed=1, **SMALL)
    img, truth = render_phantom(spec)
    grey = img.astype(float).mean(axis=2)
    col = grey[:, 200]
    skin = np.median(np.concatenate([col[120:160], col[200:240]]))
    contrast = skin - 20.0
    width_px = np.clip(skin - col[165:195], 0, None).sum() / contrast
    assert width_px == pytest.approx(dia_um / 6.0, rel=0.04)
    assert truth.hairs[0].diameter_um == dia_um


def test_ground_truth_contents_and_counting_rule():
    spec = PhantomSpec(seed=5, density_per_cm2=250, **SMALL)
    _, truth = render_phantom(spec)
    d = json.loads(truth.to_json())
    assert d["hair_count"] == sum(h["counted"] for h in d["hairs"])
    frame = CountingFrame.for_shape((spec.height, spec.width))
    for h in truth.hairs:
        x, y = designated_end(np.asarray(h.polyline))
        assert h.counted == frame.contains(x, y)
        assert h.kind == ("vellus" if h.diameter_um <= 40 else "terminal")
        assert 15 <= h.diameter_um <= 110
        assert {
            "id",
            "polyline",
            "diameter_um",
            "length_um",
            "kind",
            "unit_id",
            "counted",
            "anagen",
        } <= set(d["hairs"][h.id])
    # several hairs share an ostium when units are on
    units = [h.unit_id for h in truth.hairs]
    assert len(set(units)) < len(units)
    # density is near the requested one (Poisson, small field)
    assert 100 < truth.density_per_cm2 < 450


def test_no_crossings_means_hairs_do_not_touch():
    spec = PhantomSpec(seed=8, crossings=False, units=False, **SMALL)
    _, truth = render_phantom(spec)
    polys = [np.asarray(h.polyline) for h in truth.hairs]
    for i in range(len(polys)):
        for j in range(i + 1, len(polys)):
            d = np.sqrt(((polys[i][:, None] - polys[j][None]) ** 2).sum(-1)).min()
            assert d > 110.0 / 6.0


def test_explicit_hairs_are_rendered_as_given():
    hairs = tuple(
        HairSpec(x=60 + 70 * i, y=100, angle_deg=90, length_um=900, diameter_um=20 + 15 * i)
        for i in range(5)
    )
    spec = PhantomSpec(hairs=hairs, **SMALL)
    _, truth = render_phantom(spec)
    assert [h.diameter_um for h in truth.hairs] == [20, 35, 50, 65, 80]
    assert [h.kind for h in truth.hairs] == ["vellus", "vellus", "terminal", "terminal", "terminal"]
    assert np.allclose(truth.hairs[0].polyline[0], (60, 100))


def test_regrowth_pair():
    spec = PhantomSpec(seed=21, anagen_fraction=0.7, **SMALL)
    pair = render_pair(spec, days=3, growth_um_per_day=300, shed_fraction=0.5)
    assert pair.anagen_count + pair.telogen_count == pair.truth0.hair_count
    assert 0 < pair.anagen_fraction < 1
    assert pair.day0.shape == pair.dayn.shape
    day0 = {h.key: h for h in pair.truth0.hairs}
    dayn = {h.key: h for h in pair.truthn.hairs}
    shed = set(pair.shed_ids)
    assert shed and not shed & set(dayn)
    assert all(not day0[k].anagen for k in shed if k in day0)
    checked = 0
    for k, h0 in day0.items():
        if k in shed:
            continue
        hn = dayn[k]
        if h0.anagen:
            assert 0.85 * 900 - 1e-6 <= hn.length_um - h0.length_um <= 1.15 * 900 + 1e-6
        else:
            assert hn.length_um == pytest.approx(h0.length_um)
        # same follicle, moved by the small registration transform only
        dx, dy, rot = pair.truthn.transform
        assert abs(dx) <= 20 and abs(dy) <= 20 and abs(rot) <= 1
        moved = np.hypot(*(np.subtract(hn.polyline[0], h0.polyline[0])))
        assert moved < 20 * 1.5 + 0.02 * 600
        checked += 1
    assert checked > 5


def test_polyline_follows_curvature():
    h = HairSpec(x=0, y=0, angle_deg=0, length_um=1000, diameter_um=50, curvature_per_mm=0.5)
    p = hair_polyline(h, 5.0)
    seg = np.hypot(*np.diff(p, axis=0).T).sum()
    assert seg == pytest.approx(200.0, rel=1e-3)
    end_dir = math.degrees(math.atan2(*(p[-1] - p[-2])[::-1]))
    assert end_dir == pytest.approx(math.degrees(0.5), abs=1.0)


def test_invalid_spec():
    with pytest.raises(ValueError):
        PhantomSpec(hair_colour="purple")
    with pytest.raises(ValueError):
        PhantomSpec(um_per_px=0)
