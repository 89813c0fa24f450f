"""Baseline / follow-up phantom pairs and the skin-of-colour patterns."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import pytest

from anagen.phantoms import (
    FollowUpChange,
    PhantomSpec,
    carried_from_snapshots,
    render_followup,
    render_phantom,
)
from anagen.phantoms.followup import true_change
from anagen.trichometry.change import common_field
from anagen.trichometry.registration import Registration

SMALL = {"width": 480, "height": 360, "um_per_px": 6.0}


def _reg(pair):
    spec = pair.truth_baseline.spec
    dx, dy, rot = pair.transform
    a = np.radians(rot)
    r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    c = np.array([spec.width / 2.0, spec.height / 2.0])
    m = np.hstack([r, (c - r @ c + np.array([dx, dy]))[:, None]])
    return Registration(m, (c[0], c[1]), 0.0, 0, 1.0)


def test_pair_is_deterministic_and_keys_link_the_same_follicles():
    spec = PhantomSpec(seed=5, density_per_cm2=200, **SMALL)
    a, b = render_followup(spec), render_followup(spec)
    assert np.array_equal(a.baseline, b.baseline) and np.array_equal(a.followup, b.followup)
    assert a.to_dict() == b.to_dict()
    base = {h.key: h for h in a.truth_baseline.hairs}
    follow = {h.key: h for h in a.truth_followup.hairs}
    assert a.lost_keys and a.new_keys
    assert a.lost_keys.isdisjoint(follow) and a.new_keys.isdisjoint(base)
    reg = _reg(a)
    for k in set(base) & set(follow):
        # the same follicle: exit point moved exactly by the camera, new clipped length
        p0 = np.array(base[k].polyline[0])
        p1 = np.array(follow[k].polyline[0])
        assert np.allclose(reg.forward(p0[None])[0], p1, atol=0.01)
        assert base[k].diameter_um == follow[k].diameter_um
    assert any(abs(base[k].length_um - follow[k].length_um) > 50 for k in set(base) & set(follow))


def test_camera_moves_within_bounds_and_shots_differ_in_exposure():
    change = FollowUpChange(max_shift_px=40.0, max_rotation_deg=3.0, exposure=(1.1, 1.15))
    pair = render_followup(PhantomSpec(seed=8, **SMALL), change)
    dx, dy, rot = pair.transform
    assert abs(dx) <= 40 and abs(dy) <= 40 and abs(rot) <= 3
    assert 1.1 <= pair.exposure <= 1.15
    assert pair.followup.mean() > pair.baseline.mean()  # brighter shot


def test_true_change_counts_lost_and_new_in_the_field():
    spec = PhantomSpec(seed=2, density_per_cm2=250, **SMALL)
    pair = render_followup(spec, FollowUpChange(lost_fraction=0.3, new_fraction=0.3))
    reg = _reg(pair)
    field = common_field((360, 480), (360, 480), reg, 40.0)
    tc = true_change(pair, field)
    assert tc.lost > 0 and tc.new > 0
    assert tc.count_change == tc.new - tc.lost
    nothing = true_change(pair, np.zeros((0, 2)))
    assert (nothing.persisting, nothing.lost, nothing.new) == (0, 0, 0)


@dataclass
class _Hair:
    follicle: int


@dataclass
class _Snap:
    hairs: list[_Hair]


def test_follicle_model_drives_which_follicles_carry_a_hair():
    carried = carried_from_snapshots(
        _Snap([_Hair(0), _Hair(1), _Hair(2)]), _Snap([_Hair(1), _Hair(2), _Hair(3)]), 1000
    )
    assert carried == (frozenset({0, 1, 2}), frozenset({1, 2, 3}))
    pair = render_followup(PhantomSpec(seed=4, density_per_cm2=300, **SMALL), carried=carried)
    assert {h.key for h in pair.truth_baseline.hairs} <= {0, 1, 2}
    assert {h.key for h in pair.truth_followup.hairs} <= {1, 2, 3}
    with pytest.raises(ValueError):
        carried_from_snapshots(_Snap([]), _Snap([]), 0)


def test_skin_of_colour_has_pigment_network_and_white_dots_plain_tones_unchanged():
    plain, _ = render_phantom(PhantomSpec(seed=1, skin_tone="dark", density_per_cm2=1, **SMALL))
    deep, _ = render_phantom(PhantomSpec(seed=1, skin_tone="deep", density_per_cm2=1, **SMALL))
    lum_p = plain.astype(np.float32).mean(axis=2)
    lum_d = deep.astype(np.float32).mean(axis=2)
    fine_p = lum_p - cv2.GaussianBlur(lum_p, (0, 0), 10.0)
    fine_d = lum_d - cv2.GaussianBlur(lum_d, (0, 0), 10.0)
    # network: a darker mesh at the scale of 0.2-0.4 mm; white dots: pale pinpoints
    assert fine_d.std() > 1.3 * fine_p.std()
    assert (fine_d > 25).sum() > 1.2 * (fine_p > 25).sum()  # beside the glints of both
    # the plain tones keep their rendering (the golden images rely on it)
    again, _ = render_phantom(PhantomSpec(seed=1, skin_tone="dark", density_per_cm2=1, **SMALL))
    assert np.array_equal(plain, again)
