"""CLI contract of ``anagen follicles`` (DESIGN.md section 5), via ``anagen.cli.main``."""

from __future__ import annotations

import json

import pytest

from anagen.cli import main


def test_simulate_json_contract(capsys):
    rc = main(
        ["follicles", "simulate", "--follicles", "2000", "--years", "2", "--seed", "1", "--json"]
    )
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert "MODEL" in doc["label"]
    assert doc["follicles"] == 2000 and doc["years"] == 2 and doc["seed"] == 1
    series = doc["series"]
    assert len(series) == 25  # monthly, both ends included
    for row in series:
        for key in (
            "day",
            "anagen_fraction",
            "visible_density_per_cm2",
            "shed_per_day",
            "terminal_density_per_cm2",
            "mean_diameter_um",
        ):
            assert key in row
    assert series[0]["shed_per_day"] is None
    assert all(0.8 < r["anagen_fraction"] < 0.95 for r in series)
    assert all(r["shed_per_day"] > 0 for r in series[1:])


def test_simulate_daily_with_aga_and_zone(capsys):
    rc = main(
        [
            "follicles",
            "simulate",
            "--follicles",
            "300",
            "--years",
            "1",
            "--seed",
            "4",
            "--aga-onset-years",
            "0",
            "--zone",
            "temporal",
            "--step",
            "daily",
            "--json",
        ]
    )
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["zone"] == "temporal" and doc["aga_onset_years"] == 0
    assert len(doc["series"]) == 366
    assert doc["series"][1]["day"] - doc["series"][0]["day"] == 1


def test_simulate_is_deterministic(capsys):
    argv = ["follicles", "simulate", "--follicles", "500", "--years", "1", "--seed", "9", "--json"]
    main(argv)
    first = capsys.readouterr().out
    main(argv)
    assert capsys.readouterr().out == first


def test_simulate_table_output(capsys):
    rc = main(["follicles", "simulate", "--follicles", "1000", "--years", "1", "--seed", "2"])
    assert rc == 0
    out = capsys.readouterr().out
    assert out.startswith("# MODEL OUTPUT")
    assert "anagen%" in out and "visible/cm2" in out and "shed/day" in out
    assert len(out.strip().splitlines()) == 3 + 13


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--follicles", "-5", "--years", "1"], "follicles"),
        (["--follicles", "10", "--years", "-1"], "years"),
        (["--follicles", "10", "--years", "1", "--zone", "nape"], "zone"),
    ],
)
def test_simulate_bad_input_exits_nonzero_with_one_line_error(capsys, argv, needle):
    rc = main(["follicles", "simulate", *argv])
    assert rc != 0
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1


def test_figures_command_writes_pngs(tmp_path, capsys, monkeypatch):
    import anagen.follicles.figures as figs

    calls = []

    def fake_make(out_dir, seed=0, progress=True):
        calls.append((out_dir, seed))
        return [figs.fig_aga_zones(tmp_path, seed)]

    monkeypatch.setattr(figs, "make_figures", fake_make)
    rc = main(["follicles", "figures", "--out", str(tmp_path)])
    assert rc == 0 and calls == [(str(tmp_path), 0)]
    png = tmp_path / "follicles_aga_zones.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(png) in capsys.readouterr().out


def test_cohort_command(capsys):
    rc = main(["follicles", "cohort", "--patients", "2", "--seed", "1", "--visits", "0,30"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["patients"]) == 2
    v = doc["patients"][0]["visits"][1]
    assert v["day"] == 30 and {"diameter_um", "phase", "follicle"} <= set(v["hairs"][0])
