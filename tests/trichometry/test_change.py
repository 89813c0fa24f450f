"""Matched follow-up: registration, hair-to-hair matching, the command line and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from anagen.cli import main
from anagen.phantoms import FollowUpChange, PhantomSpec, render_followup, write_image
from anagen.phantoms.followup import true_change
from anagen.trichometry import ChangeError, ImageError, matched_change
from anagen.trichometry.change import common_field
from anagen.trichometry.registration import Registration, coarse_register, rigid_fit

SPEC = {"width": 960, "height": 720, "um_per_px": 6.0, "density_per_cm2": 180.0}
REQUIRED = {
    "baseline_count",
    "followup_count",
    "persisting",
    "lost",
    "new",
    "count_change",
    "common_area_cm2",
    "density_change_per_cm2",
    "registration",
    "quality",
    "algorithm_version",
}


def _true_matrix(pair):
    spec = pair.truth_baseline.spec
    dx, dy, rot = pair.transform
    a = np.radians(rot)
    r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    c = np.array([spec.width / 2.0, spec.height / 2.0])
    return np.hstack([r, (c - r @ c + np.array([dx, dy]))[:, None]])


def _reg_error(res, pair):
    w, h = pair.truth_baseline.spec.width, pair.truth_baseline.spec.height
    pts = np.array([[0, 0], [w, 0], [0, h], [w, h], [w / 2, h / 2]], float)
    m = _true_matrix(pair)
    want = pts @ m[:, :2].T + m[:, 2]
    return float(np.sqrt(np.mean(np.sum((res.registration.forward(pts) - want) ** 2, 1))))


@pytest.fixture(scope="module")
def pair():
    change = FollowUpChange(max_shift_px=40.0, max_rotation_deg=3.0, exposure=(0.85, 0.9))
    return render_followup(PhantomSpec(seed=21, crossings=False, units=False, **SPEC), change)


@pytest.fixture(scope="module")
def result(pair):
    return matched_change(pair.baseline, pair.followup, 6.0)


def test_registration_recovers_the_camera_move(pair, result):
    assert _reg_error(result, pair) <= 2.0
    assert result.registration.residual_px <= 2.5
    dx, dy = result.registration.shift_px
    assert abs(result.registration.rotation_deg - pair.transform[2]) < 0.3
    assert abs(dx - pair.transform[0]) < 2 and abs(dy - pair.transform[1]) < 2


def test_lost_and_new_hairs_match_the_truth(pair, result):
    truth = true_change(pair, np.array(result.field_polygon))
    assert truth.lost > 0 and truth.new > 0
    assert result.count_change == result.new - result.lost
    assert abs(result.count_change - truth.count_change) <= 1
    assert abs(result.lost - truth.lost) <= 2 and abs(result.new - truth.new) <= 2
    assert result.baseline_count == result.persisting + result.lost
    assert result.followup_count == result.persisting + result.new
    assert 0.0 < result.common_area_cm2 < result.baseline.area_cm2
    assert result.density_change_per_cm2 == pytest.approx(
        result.count_change / result.common_area_cm2
    )
    assert all(0.0 <= f.confidence <= 1.0 for f in result.fates)
    assert {f.status for f in result.fates} == {"persisting", "lost", "new"}


def test_same_image_twice_changes_nothing(pair):
    res = matched_change(pair.baseline, pair.baseline, 6.0)
    assert res.lost == 0 and res.new == 0
    assert res.overlap_fraction == pytest.approx(1.0, abs=0.01)
    assert abs(res.registration.rotation_deg) < 0.05
    assert max(abs(v) for v in res.registration.shift_px) < 0.5


def test_coarse_registration_finds_rotation_and_shift(pair):
    coarse = coarse_register(pair.baseline, pair.followup, 6.0, max_rotation_deg=5.0)
    assert (
        abs(coarse.rotation_deg - pair.transform[2]) < 1.5
    )  # the ladder's step and the re-clipped hairs
    dx, dy = coarse.shift_px
    assert abs(dx - pair.transform[0]) < 10 and abs(dy - pair.transform[1]) < 10


def test_rigid_fit_is_exact_on_exact_points():
    m = _true_matrix(render_followup(PhantomSpec(seed=3, width=200, height=160, density_per_cm2=5)))
    p = np.random.default_rng(0).uniform(0, 200, (10, 2))
    assert np.allclose(rigid_fit(p, p @ m[:, :2].T + m[:, 2]), m, atol=1e-9)


def test_common_field_is_empty_without_overlap():
    far = Registration(np.array([[1.0, 0, 5000.0], [0, 1.0, 0]]), (0.0, 0.0), 0.0, 0, 1.0)
    assert len(common_field((720, 960), (720, 960), far, 40.0)) == 0


def test_unrelated_images_are_refused_naming_both(pair, tmp_path):
    other = render_followup(PhantomSpec(seed=99, density_per_cm2=20, width=960, height=720))
    a, b = tmp_path / "day0.png", tmp_path / "month6.png"
    write_image(a, pair.baseline)
    write_image(b, np.full_like(other.followup, 128))
    with pytest.raises(ChangeError) as exc:
        matched_change(a, b, 6.0)
    assert "day0.png" in str(exc.value) and "month6.png" in str(exc.value)
    assert "\n" not in str(exc.value)


def test_unreadable_image_raises_image_error(tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(ImageError):
        matched_change(bad, bad, 6.0)


# --- command line ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(pair, tmp_path_factory):
    d = tmp_path_factory.mktemp("change")
    a, b = d / "baseline.png", d / "followup.jpg"
    write_image(a, pair.baseline)
    write_image(b, pair.followup, jpeg_quality=92)
    return a, b


def test_cli_change_json_contract(files, tmp_path, capsys):
    a, b = files
    overlay = tmp_path / "ov.png"
    code = main(
        [
            "trichometry",
            "change",
            str(a),
            str(b),
            "--um-per-px",
            "6",
            "--overlay",
            str(overlay),
            "--json",
        ]
    )
    assert code == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d) >= REQUIRED
    assert {"dx_px", "dy_px", "rotation_deg", "residual_px"} <= set(d["registration"])
    assert d["count_change"] == d["new"] - d["lost"]
    assert d["algorithm_version"].startswith("anagen-trichometry/")
    assert overlay.stat().st_size > 10_000


def test_cli_change_bad_input_is_one_line_naming_the_files(files, tmp_path, capsys):
    a, _ = files
    bad = tmp_path / "missing.png"
    assert main(["trichometry", "change", str(a), str(bad), "--um-per-px", "6", "--json"]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "missing.png" in err
    blank = tmp_path / "blank.png"
    write_image(blank, np.full((720, 960, 3), 128, np.uint8))
    assert main(["trichometry", "change", str(a), str(blank), "--um-per-px", "6"]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "blank.png" in err and "baseline.png" in err
    assert main(["trichometry", "change", str(a), str(a), "--um-per-px", "0"]) != 0
    assert "baseline.png" in capsys.readouterr().err


def test_terminal_change_counts_thick_hairs_and_threshold_crossings():
    from anagen.trichometry.change import count_change_at_least

    def h(status, before, after, in_field=True):
        return {
            "status": status,
            "in_field": in_field,
            "baseline_diameter_um": before,
            "followup_diameter_um": after,
        }

    hairs = [
        h("lost", 60.0, None),  # terminal lost: -1
        h("lost", 20.0, None),  # vellus lost: 0
        h("new", None, 45.0),  # terminal new: +1
        h("new", None, 45.0, in_field=False),  # outside the common field: 0
        h("persisting", 25.0, 35.0),  # thickened into terminal: +1
        h("persisting", 50.0, 28.0),  # thinned below: -1
        h("persisting", 50.0, None),  # seen only on one visit: 0
        h("persisting", 70.0, 72.0),  # stays terminal: 0
    ]
    assert count_change_at_least(hairs, 30.0) == 0
    assert count_change_at_least(hairs[:1] + hairs[2:3] + hairs[4:5], 30.0) == 1


def test_result_hairs_carry_both_diameters(result):
    hairs = result.to_dict(include_hairs=True)["hairs"]
    persisting = [x for x in hairs if x["status"] == "persisting" and x["followup_id"] >= 0]
    assert persisting and all(
        x["baseline_diameter_um"] > 0 and x["followup_diameter_um"] > 0 for x in persisting
    )
    assert all(x["followup_diameter_um"] is None for x in hairs if x["status"] == "lost")


def test_stored_analyses_are_reused_with_the_same_outcome(pair, result):
    from anagen.trichometry import TrichometryResult

    stored_b = TrichometryResult.from_dict(json.loads(json.dumps(result.baseline.to_dict())))
    stored_f = TrichometryResult.from_dict(json.loads(json.dumps(result.followup.to_dict())))
    assert stored_b.hair_count == result.baseline.hair_count
    assert stored_b.to_dict()["hairs"] == result.baseline.to_dict()["hairs"]
    again = matched_change(pair.baseline, pair.followup, 6.0, analyses=(stored_b, stored_f))
    assert (again.persisting, again.lost, again.new) == (result.persisting, result.lost, result.new)
    # one stored analysis, the other made afresh
    small = matched_change(pair.baseline, pair.followup, 6.0, analyses=(stored_b, None))
    assert small.count_change == result.count_change


def test_pair_with_too_little_common_skin_is_refused(tmp_path, capsys):
    from anagen.phantoms import render_phantom

    wide, _ = render_phantom(
        PhantomSpec(width=1720, height=480, um_per_px=6.0, density_per_cm2=200, seed=4)
    )
    a, b = tmp_path / "left.png", tmp_path / "right.png"
    write_image(a, wide[:, :960])
    write_image(b, wide[:, 760:])  # 200 px of 960 in common
    with pytest.raises(ChangeError):
        matched_change(a, b, 6.0)
    assert main(["trichometry", "change", str(a), str(b), "--um-per-px", "6", "--json"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "left.png" in err and "right.png" in err


def test_phantom_cli_renders_follow_up_pairs_the_change_command_reads(tmp_path, capsys):
    out = tmp_path / "fu"
    args = ["phantom", "render", "--out", str(out), "--n", "1", "--seed", "3", "--followup"]
    assert main([*args, "--width", "800", "--height", "600", "--skin-tone", "deep"]) == 0
    capsys.readouterr()
    truth = json.loads((out / "phantom_00003_followup.json").read_text())
    assert truth["lost_keys"] and truth["new_keys"]
    code = main(
        [
            "trichometry",
            "change",
            str(out / "phantom_00003_baseline.png"),
            str(out / "phantom_00003_followup.png"),
            "--um-per-px",
            "6",
            "--json",
        ]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out)["persisting"] > 0
