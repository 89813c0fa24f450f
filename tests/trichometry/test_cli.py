"""CLI contracts of DESIGN.md section 5 (anagen trichometry / anagen phantom)."""

from __future__ import annotations

import json

import pytest

from anagen.cli import main

REQUIRED = {
    "image",
    "hair_count",
    "area_cm2",
    "density_per_cm2",
    "terminal_count",
    "vellus_count",
    "mean_diameter_um",
    "median_diameter_um",
    "diameters_um",
    "cumulative_thickness_mm_per_cm2",
    "quality",
    "algorithm_version",
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("ph")
    assert (
        main(
            [
                "phantom",
                "render",
                "--out",
                str(out),
                "--n",
                "2",
                "--seed",
                "7",
                "--width",
                "640",
                "--height",
                "480",
                "--density",
                "200",
            ]
        )
        == 0
    )
    return out


def test_phantom_render_writes_images_and_truth(rendered):
    names = sorted(p.name for p in rendered.iterdir())
    assert names == [
        "phantom_00007.json",
        "phantom_00007.png",
        "phantom_00008.json",
        "phantom_00008.png",
    ]
    truth = json.loads((rendered / "phantom_00007.json").read_text())
    assert truth["hair_count"] == sum(h["counted"] for h in truth["hairs"])
    assert truth["spec"]["seed"] == 7


def test_phantom_render_pairs_and_jpeg(tmp_path):
    assert (
        main(
            [
                "phantom",
                "render",
                "--out",
                str(tmp_path),
                "--n",
                "1",
                "--seed",
                "3",
                "--width",
                "640",
                "--height",
                "480",
                "--pairs",
                "2",
                "--jpeg-quality",
                "85",
            ]
        )
        == 0
    )
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "phantom_00003_day0.jpg",
        "phantom_00003_day0.json",
        "phantom_00003_dayN.jpg",
        "phantom_00003_dayN.json",
        "phantom_00003_pair.json",
    ]
    assert (tmp_path / "phantom_00003_day0.jpg").read_bytes()[:2] == b"\xff\xd8"


def test_analyze_json_single_object(rendered, capsys):
    img = rendered / "phantom_00007.png"
    assert main(["trichometry", "analyze", str(img), "--um-per-px", "6", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert isinstance(d, dict) and set(d) >= REQUIRED
    assert d["image"] == str(img)
    assert len(d["diameters_um"]) == d["hair_count"]
    truth = json.loads((rendered / "phantom_00007.json").read_text())
    assert abs(d["hair_count"] - truth["hair_count"]) <= max(3, 0.2 * truth["hair_count"])


def test_analyze_batch_with_bad_file(rendered, tmp_path, capsys):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    imgs = [str(rendered / "phantom_00007.png"), str(bad), str(rendered / "phantom_00008.png")]
    rc = main(
        [
            "trichometry",
            "analyze",
            *imgs,
            "--um-per-px",
            "6",
            "--json",
            "--vellus-max-um",
            "30",
            "--overlay",
            str(tmp_path / "ov"),
        ]
    )
    out = capsys.readouterr()
    assert rc != 0
    rows = json.loads(out.out)
    assert [r["image"] for r in rows] == [imgs[0], imgs[2]]
    assert all(set(r) >= REQUIRED and r["vellus_max_um"] == 30 for r in rows)
    errors = [ln for ln in out.err.splitlines() if "error" in ln]
    assert len(errors) == 1 and "broken.png" in errors[0]
    assert sorted(p.name for p in (tmp_path / "ov").iterdir()) == [
        "phantom_00007_overlay.png",
        "phantom_00008_overlay.png",
    ]


def test_analyze_table_and_jobs(rendered, capsys):
    imgs = [str(rendered / "phantom_00007.png"), str(rendered / "phantom_00008.png")]
    assert main(["trichometry", "analyze", *imgs, "--um-per-px", "6", "--jobs", "2"]) == 0
    out = capsys.readouterr().out
    assert "density/cm2" in out and "phantom_00007.png" in out and "phantom_00008.png" in out


def test_analyze_missing_file_and_bad_calibration(rendered, capsys):
    assert main(["trichometry", "analyze", "/no/such.png", "--um-per-px", "6"]) != 0
    assert "/no/such.png" in capsys.readouterr().err
    img = str(rendered / "phantom_00007.png")
    assert main(["trichometry", "analyze", img, "--um-per-px", "-1"]) != 0
    assert "calibration" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["trichometry", "analyze", img])  # --um-per-px is required


def test_anagen_command(tmp_path, capsys):
    assert (
        main(
            [
                "phantom",
                "render",
                "--out",
                str(tmp_path),
                "--n",
                "1",
                "--seed",
                "12",
                "--width",
                "1000",
                "--height",
                "800",
                "--pairs",
                "2",
                "--no-crossings",
                "--no-units",
            ]
        )
        == 0
    )
    capsys.readouterr()
    rc = main(
        [
            "trichometry",
            "anagen",
            str(tmp_path / "phantom_00012_day0.png"),
            str(tmp_path / "phantom_00012_dayN.png"),
            "--days",
            "2",
            "--um-per-px",
            "6",
            "--json",
        ]
    )
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert {"anagen_count", "telogen_count", "anagen_fraction"} <= set(d)
    assert 0.0 <= d["anagen_fraction"] <= 1.0
    rc = main(
        [
            "trichometry",
            "anagen",
            str(tmp_path / "missing.png"),
            str(tmp_path / "phantom_00012_dayN.png"),
            "--days",
            "2",
            "--um-per-px",
            "6",
        ]
    )
    assert rc != 0 and "missing.png" in capsys.readouterr().err
