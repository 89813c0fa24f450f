"""Fuzzing the outcome CSV reader and ``anagen evidence summarize``.

Any file (random bytes, other encodings, ragged rows, quotes, odd numbers such as ``inf``,
``1e309``, ``nan``, ``-0``, text in number columns, duplicate or missing visits, one patient,
no baseline) ends in exactly one of two ways: exit 0 with a valid JSON document (no NaN or
infinity in it), or exit 2 with one ``anagen evidence: error:`` line naming the file or the
option. ``read_outcomes_csv`` + ``validate_outcomes`` raise only ``OutcomeTableError``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anagen.cli import main
from anagen.evidence.errors import OutcomeTableError
from anagen.evidence.table import read_outcomes_csv, validate_outcomes

COLUMNS = ["patient_id", "visit_day", "density_per_cm2", "arm", "age", "", "visit_day "]
CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            "0.0",
            "-0",
            "30",
            "90",
            "180",
            "365",
            "-14",
            "1e309",
            "-1e309",
            "inf",
            "nan",
            "NaN",
            "NA",
            "1,5",
            "  7 ",
            '"12"',
            "12.5.1",
            "x",
            "A",
            "B",
            "é",
            "\u00a0",
            "9" * 40,
            "0x10",
            "True",
            "None",
            '"',
            "a,b",
        ]
    ),
    st.integers(-400, 800).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=6),
)


@st.composite
def outcome_csvs(draw) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=300))
    header = draw(
        st.one_of(
            st.just(["patient_id", "visit_day", "density_per_cm2", "arm"]),
            st.lists(st.sampled_from(COLUMNS), min_size=0, max_size=6),
        )
    )
    rows = []
    patients = draw(st.lists(st.sampled_from(["p1", "p2", "p3", "", "p1 "]), max_size=4))
    for patient in patients or ["p1"]:
        for day in draw(st.lists(st.sampled_from(["0", "30", "90", "180", "0", "x"]), max_size=5)):
            row = [patient, day, draw(CELLS), draw(st.sampled_from(["A", "B", ""]))]
            row = row[: len(header)] + [draw(CELLS) for _ in range(len(header) - 4)]
            if draw(st.integers(0, 9)) == 0:
                row = row[: draw(st.integers(0, len(row)))] + [draw(CELLS)] * draw(
                    st.integers(0, 2)
                )
            rows.append(row)
    text = "\n".join(",".join(r) for r in [header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


OPTIONS = st.one_of(
    st.just([]),
    st.just(["--group-by", "arm"]),
    st.just(["--group-by", "nope"]),
    st.just(["--measure", "age"]),
    st.just(["--windows", "30,90,x"]),
    st.just(["--windows", ""]),
    st.just(["--windows", "0,-30,1e9"]),
    st.just(["--responder-percent", "10"]),
    st.just(["--window-tolerance-days", "-5"]),
    st.just(["--confidence", "1.5"]),
)


def _write(data: bytes) -> str:
    fd, path = tempfile.mkstemp(prefix="fuzz-", suffix=".csv")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(outcome_csvs(), OPTIONS)
def test_summarize_exits_0_with_json_or_2_with_one_line(data: bytes, options: list[str]):
    path = _write(data)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["evidence", "summarize", path, "--json", *options])
    finally:
        os.unlink(path)
    if code == 0:
        doc = json.loads(out.getvalue(), parse_constant=_no_constants)
        assert doc["groups"]
        assert not err.getvalue()
        return
    assert code == 2, (code, err.getvalue())
    lines = err.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(("anagen evidence: error: " + path, "anagen evidence: error: --"))


def _no_constants(name: str):
    raise AssertionError(f"{name} in the JSON output")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(outcome_csvs())
def test_reader_and_validation_raise_only_the_documented_error(data: bytes):
    path = _write(data)
    try:
        table = read_outcomes_csv(path)
        validate_outcomes(table, "density_per_cm2")
    except OutcomeTableError as error:
        assert "\n" not in str(error)
    finally:
        os.unlink(path)
