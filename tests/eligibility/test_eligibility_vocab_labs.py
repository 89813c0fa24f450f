"""Vocabularies, BASP grammar and lab reference data."""

from __future__ import annotations

import math

import pytest

from anagen.eligibility import LAB_TESTS, classify_lab, parse_basp, validate_lab, vocab


def test_every_code_has_a_label() -> None:
    for codes in (
        vocab.TRIGGERS,
        vocab.DRUGS,
        vocab.PRIOR_TREATMENTS,
        vocab.CONTRAINDICATIONS,
        vocab.TRICHOSCOPY_FINDINGS,
        vocab.PATTERNS,
        vocab.SEXES,
        vocab.OUTCOMES,
    ):
        for code in codes:
            assert vocab.LABELS[code]
    for prefix, codes in (
        ("norwood", vocab.NORWOOD),
        ("ludwig", vocab.LUDWIG),
        ("sinclair", vocab.SINCLAIR),
        ("savin", vocab.SAVIN),
    ):
        assert [v for v, _ in vocab.choices(codes, prefix)] == list(codes)


def test_vocabularies_match_the_interface() -> None:
    assert vocab.NORWOOD == (
        "I", "II", "IIa", "III", "IIIa", "III-vertex", "IV", "IVa", "V", "Va", "VI", "VII"
    )  # fmt: skip
    assert vocab.LUDWIG == ("I", "II", "III")
    assert vocab.SINCLAIR == (1, 2, 3, 4, 5)
    assert vocab.SAVIN == (
        "I-1", "I-2", "I-3", "I-4", "II-1", "II-2", "III", "advanced", "frontal"
    )  # fmt: skip
    assert vocab.choices(vocab.DRUGS)[0] == ("retinoids", vocab.LABELS["retinoids"])


@pytest.mark.parametrize(
    ("text", "code", "basic", "grade", "frontal", "vertex"),
    [
        ("L", "L", "L", None, None, None),
        ("M0", "M0", "M", 0, None, None),
        ("M2V1", "M2V1", "M", 2, None, 1),
        ("m2 v1", "M2V1", "M", 2, None, 1),
        ("C3F2", "C3F2", "C", 3, 2, None),
        ("U3", "U3", "U", 3, None, None),
        ("LF1", "LF1", "L", None, 1, None),
        ("M1F2V3", "M1F2V3", "M", 1, 2, 3),
        ("M1V3F2", "M1F2V3", "M", 1, 2, 3),
    ],
)
def test_parse_basp(
    text: str, code: str, basic: str, grade: int | None, frontal: int | None, vertex: int | None
) -> None:
    basp = parse_basp(text)
    assert (basp.code, basp.basic, basp.basic_grade, basp.frontal, basp.vertex) == (
        code,
        basic,
        grade,
        frontal,
        vertex,
    )


@pytest.mark.parametrize(
    "text",
    ["", "M", "M4", "U0", "L0", "C", "V1", "F2", "M2V4", "M2F0", "M2V1V2", "M2F1F2", "X1", "M2 X"],
)
def test_parse_basp_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="basp"):
        parse_basp(text)


def test_lab_tests_cover_the_four_labs() -> None:
    assert [t.code for t in LAB_TESTS] == ["ferritin", "tsh", "vitamin_d", "haemoglobin"]
    for test in LAB_TESTS:
        assert test.source and test.unit
        assert test.plausible_min >= 0


@pytest.mark.parametrize(
    ("code", "value", "sex", "expected"),
    [
        ("ferritin", 29.9, "female", "low"),
        ("ferritin", 30.0, "female", "normal"),
        ("ferritin", 30.0, "male", "normal"),
        ("ferritin", 150.0, "female", "normal"),
        ("ferritin", 150.1, "female", "high"),
        ("ferritin", 150.1, "male", "normal"),
        ("tsh", 0.39, "male", "low"),
        ("tsh", 0.4, "male", "normal"),
        ("tsh", 4.0, "male", "normal"),
        ("tsh", 4.01, "male", "high"),
        ("vitamin_d", 49.9, "female", "low"),
        ("vitamin_d", 50.0, "female", "normal"),
        ("vitamin_d", 250.1, "female", "high"),
        ("haemoglobin", 11.9, "female", "low"),
        ("haemoglobin", 12.0, "female", "normal"),
        ("haemoglobin", 15.6, "female", "high"),
        ("haemoglobin", 13.4, "male", "low"),
        ("haemoglobin", 13.5, "male", "normal"),
        ("haemoglobin", 17.5, "male", "normal"),
        ("haemoglobin", 17.6, "male", "high"),
        ("haemoglobin", 12.5, "other", "normal"),
        ("haemoglobin", 11.9, "other", "low"),
        ("haemoglobin", 12.5, None, "normal"),
    ],
)
def test_classify_lab(code: str, value: float, sex: str | None, expected: str) -> None:
    assert classify_lab(code, value, sex) == expected


@pytest.mark.parametrize(
    ("code", "value", "message"),
    [
        ("ferritin", -1, "negative"),
        ("tsh", -0.01, "negative"),
        ("vitamin_d", -5, "negative"),
        ("haemoglobin", -12, "negative"),
        ("haemoglobin", 135, "physiologically possible"),  # g/L typed as g/dL
        ("haemoglobin", 0.5, "physiologically possible"),
        ("ferritin", 1e7, "physiologically possible"),
        ("tsh", 5000, "physiologically possible"),
        ("vitamin_d", 5000, "physiologically possible"),
        ("ferritin", math.nan, "finite"),
        ("ferritin", math.inf, "finite"),
        ("ferritin", "12", "number"),
        ("ferritin", True, "number"),
        ("glucose", 5.0, "unknown lab test"),
    ],
)
def test_validate_lab_rejects(code: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_lab(code, value)  # type: ignore[arg-type]


def test_validate_lab_returns_float() -> None:
    assert validate_lab("ferritin", 45) == 45.0
    assert validate_lab("tsh", 0) == 0.0


def test_pure_libraries_do_not_import_django() -> None:
    import subprocess
    import sys

    code = (
        "import sys, anagen.eligibility, anagen.identity; "
        "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
