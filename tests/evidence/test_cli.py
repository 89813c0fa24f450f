"""``anagen evidence summarize``: the JSON contract and one-line errors on bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from anagen.cli import main
from anagen.evidence import synthetic_cohort

KEYS = {
    "window_day",
    "n",
    "n_missing",
    "mean_change",
    "ci_low",
    "ci_high",
    "median_change",
    "responder_rate",
    "responder_ci_low",
    "responder_ci_high",
}


@pytest.fixture
def outcomes(tmp_path):
    path = tmp_path / "outcomes.csv"
    data = synthetic_cohort(
        30, arms={"A": 20.0, "B": 5.0}, missing_probability=0.2, visit_jitter_days=10, seed=2
    )
    data.to_csv(path, index=False)
    return path


def _run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_summarize_json_contract(outcomes, capsys):
    code, out, err = _run(["evidence", "summarize", str(outcomes), "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["measure"] == "density_per_cm2"
    (group,) = doc["groups"]
    assert group["group"] == "all"
    assert [t["window_day"] for t in group["timepoints"]] == [14, 30, 60, 90, 180, 365]
    for t in group["timepoints"]:
        assert set(t) >= KEYS
        assert t["n"] + t["n_missing"] == 30
        assert t["ci_low"] <= t["mean_change"] <= t["ci_high"]
        assert 0 <= t["responder_ci_low"] <= t["responder_rate"] <= t["responder_ci_high"] <= 1


def test_summarize_options_and_groups(outcomes, capsys):
    argv = [
        "evidence", "summarize", str(outcomes), "--json", "--measure", "density_per_cm2",
        "--windows", "90,180,365", "--window-tolerance-days", "30", "--responder-delta", "15",
        "--responder-percent", "12", "--group-by", "protocol",
    ]  # fmt: skip
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert [g["group"] for g in doc["groups"]] == ["A", "B"]
    assert doc["responder_rule"] == {"delta": 15.0, "percent": 12.0}
    for g in doc["groups"]:
        assert [t["window_day"] for t in g["timepoints"]] == [90, 180, 365]
        assert all(t["tolerance_days"] == 30 for t in g["timepoints"])
        assert all(t["n"] + t["n_missing"] == 15 for t in g["timepoints"])
    a, b = doc["groups"]
    assert a["timepoints"][-1]["mean_change"] > b["timepoints"][-1]["mean_change"]


def test_summarize_text_table(outcomes, capsys):
    code, out, _ = _run(["evidence", "summarize", str(outcomes), "--windows", "90"], capsys)
    assert code == 0 and "group all" in out and "   90" in out


def test_a_single_patient_window_gives_null_not_nan(tmp_path, capsys):
    path = tmp_path / "one.csv"
    path.write_text("patient_id,visit_day,density_per_cm2\na,0,100\na,90,130\n")
    code, out, _ = _run(["evidence", "summarize", str(path), "--json", "--windows", "90"], capsys)
    t = json.loads(out)["groups"][0]["timepoints"][0]
    assert code == 0 and t["mean_change"] == 30 and t["ci_low"] is None


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        (None, [], "no such file"),
        ("", [], "empty file"),
        ("patient_id,visit_day\na,0\n", [], "missing column(s): density_per_cm2"),
        ("patient_id,visit_day,density_per_cm2\na,30,1\n", [], "no baseline"),
        ("patient_id,visit_day,density_per_cm2\na,0,lots\n", [], "non-numeric"),
        ("patient_id,visit_day,density_per_cm2\na,zero,1\n", [], "non-numeric"),
        ("patient_id,visit_day,density_per_cm2\na,0,1\n", ["--group-by", "site"], "site"),
        ("patient_id,visit_day,density_per_cm2\na,0,1\n", ["--windows", "90,x"], "--windows"),
        ("patient_id,visit_day,density_per_cm2\na,0,1\n", ["--windows", "-5"], "positive"),
        (b"\xff\xfe\x00bad", [], "not a readable CSV"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(tmp_path, capsys, content, extra, message):
    path = tmp_path / "bad.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    code, out, err = _run(["evidence", "summarize", str(path), "--json", *extra], capsys)
    assert code != 0 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert message in lines[0]
    if "--" not in message:
        assert str(path) in lines[0]


def test_console_script_entry_point(outcomes):
    done = subprocess.run(
        [sys.executable, "-m", "anagen.cli", "evidence", "summarize", str(outcomes), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["groups"][0]["group"] == "all"
    bad = subprocess.run(
        [sys.executable, "-m", "anagen.cli", "evidence", "summarize", "/nonexistent.csv"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "/nonexistent.csv" in bad.stderr
