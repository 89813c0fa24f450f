"""Laboratory reference data (as data) and classification.

Reference limits here are *for the hair-loss work-up*, not general laboratory reference
intervals; e.g. ferritin < 30 µg/L is treated as low even though many laboratories
report a lower limit of 12-15 µg/L. Sources are given per test in :attr:`LabTest.source`
and in ``docs/eligibility.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

__all__ = [
    "LAB_TESTS",
    "LAB_TESTS_BY_CODE",
    "LabClass",
    "LabTest",
    "RefRange",
    "classify_lab",
    "lab_test",
    "validate_lab",
]

LabClass = Literal["low", "normal", "high"]


@dataclass(frozen=True, slots=True)
class RefRange:
    """A reference interval: ``low <= value <= high`` is normal.

    Parameters
    ----------
    low : float or None
        Values strictly below are "low"; None means no lower limit.
    high : float or None
        Values strictly above are "high"; None means no upper limit.
    """

    low: float | None
    high: float | None


@dataclass(frozen=True, slots=True)
class LabTest:
    """One laboratory test.

    Parameters
    ----------
    code : str
        Key in :attr:`AssessmentFacts.labs`, e.g. ``"ferritin"``.
    label : str
        Human label.
    unit : str
        The only unit accepted (convert before entering).
    reference : Mapping[str, RefRange]
        Reference interval by sex: keys ``"female"``, ``"male"``, ``"other"``.
    plausible_min, plausible_max : float
        Hard limits for input validation; outside them a value is rejected as a typing
        or unit error.
    source : str
        Where the limits come from.
    """

    code: str
    label: str
    unit: str
    reference: Mapping[str, RefRange]
    plausible_min: float
    plausible_max: float
    source: str

    def __post_init__(self) -> None:
        missing = {"female", "male", "other"} - set(self.reference)
        if missing:
            raise ValueError(f"{self.code}: reference range missing for {sorted(missing)}")
        object.__setattr__(self, "reference", MappingProxyType(dict(self.reference)))

    def range_for(self, sex: str | None) -> RefRange:
        """Reference interval for ``sex`` (``None`` and unknown use ``"other"``)."""
        return self.reference.get(sex or "other", self.reference["other"])


def _same(low: float | None, high: float | None) -> dict[str, RefRange]:
    r = RefRange(low, high)
    return {"female": r, "male": r, "other": r}


LAB_TESTS: tuple[LabTest, ...] = (
    LabTest(
        code="ferritin",
        label="Ferritin",
        unit="µg/L",
        reference={
            "female": RefRange(30.0, 150.0),
            "male": RefRange(30.0, 200.0),
            "other": RefRange(30.0, 200.0),
        },
        plausible_min=0.0,
        plausible_max=100_000.0,
        source=(
            "Low < 30 µg/L: iron deficiency (sensitivity 92 %, specificity 98 %; Mast AE et "
            "al., Clin Chem 1998;44:45-51), the threshold used in hair-loss reviews (Trost "
            "LB, Bergfeld WF, Calogeras E, J Am Acad Dermatol 2006;54:824-44). High > 150 "
            "(women) / > 200 µg/L (men): possible iron overload (WHO guideline on ferritin "
            "concentrations, 2020)."
        ),
    ),
    LabTest(
        code="tsh",
        label="Thyroid-stimulating hormone (TSH)",
        unit="mIU/L",
        reference=_same(0.4, 4.0),
        plausible_min=0.0,
        plausible_max=1_000.0,
        source=(
            "Common adult reference interval 0.4-4.0 mIU/L (cf. NHANES III 0.45-4.12; "
            "Garber JR et al., ATA/AACE hypothyroidism guideline, Thyroid 2012;22:1200-35). "
            "Both hypo- and hyperthyroidism cause diffuse hair loss."
        ),
    ),
    LabTest(
        code="vitamin_d",
        label="25-hydroxyvitamin D",
        unit="nmol/L",
        reference=_same(50.0, 250.0),
        plausible_min=0.0,
        plausible_max=2_000.0,
        source=(
            "Insufficient < 50 nmol/L (20 ng/mL): Institute of Medicine 2011, Ross AC et "
            "al., J Clin Endocrinol Metab 2011;96:53-8. High > 250 nmol/L: upper limit "
            "often printed by laboratories as a possible-toxicity level (not used by rules)."
        ),
    ),
    LabTest(
        code="haemoglobin",
        label="Haemoglobin",
        unit="g/dL",
        reference={
            "female": RefRange(12.0, 15.5),
            "male": RefRange(13.5, 17.5),
            # Sex not stated: widest interval, so only clearly abnormal values are flagged.
            "other": RefRange(12.0, 17.5),
        },
        plausible_min=1.0,
        plausible_max=25.0,
        source=(
            "Adult reference intervals female 12.0-15.5, male 13.5-17.5 g/dL (e.g. Mayo "
            "Clinic Laboratories); WHO anaemia cut-offs are 12.0 (non-pregnant women) and "
            "13.0 g/dL (men) (WHO/NMH/NHD/MNM/11.1, 2011)."
        ),
    ),
)

LAB_TESTS_BY_CODE: Mapping[str, LabTest] = MappingProxyType({t.code: t for t in LAB_TESTS})


class LabValueError(ValueError):
    """A laboratory value that cannot be used, with what is wrong for a caller's own wording.

    Attributes
    ----------
    test : LabTest
        The test the value was given for.
    problem : str
        ``"not_a_number"``, ``"not_finite"``, ``"negative"`` or ``"implausible"``.
    value : object
        The value as given.
    """

    def __init__(self, message: str, *, test: LabTest, problem: str, value: object) -> None:
        super().__init__(message)
        self.test, self.problem, self.value = test, problem, value


def lab_test(code: str, tests: tuple[LabTest, ...] = LAB_TESTS) -> LabTest:
    """Look up a test by code.

    Raises
    ------
    ValueError
        For an unknown code.
    """
    for test in tests:
        if test.code == code:
            return test
    known = ", ".join(t.code for t in tests)
    raise ValueError(f"labs: unknown lab test {code!r} (known: {known})")


def validate_lab(code: str, value: float, tests: tuple[LabTest, ...] = LAB_TESTS) -> float:
    """Check that ``value`` is a possible result of test ``code`` in its unit.

    Parameters
    ----------
    code : str
        Test code, e.g. ``"ferritin"``.
    value : float
        The result in the test's unit.
    tests : tuple of LabTest, optional

    Returns
    -------
    float
        ``value`` as a float.

    Raises
    ------
    LabValueError
        For a non-number, NaN/infinity, a negative value or a value outside the
        physiologically plausible limits (likely a unit mix-up).
    ValueError
        For an unknown test.
    """
    test = lab_test(code, tests)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LabValueError(
            f"labs: {code} must be a number, got {value!r}",
            test=test,
            problem="not_a_number",
            value=value,
        )
    number = float(value)
    if not math.isfinite(number):
        raise LabValueError(
            f"labs: {code} must be a finite number, got {value!r}",
            test=test,
            problem="not_finite",
            value=value,
        )
    if number < 0:
        raise LabValueError(
            f"labs: {code} cannot be negative, got {number:g} {test.unit}",
            test=test,
            problem="negative",
            value=value,
        )
    if not test.plausible_min <= number <= test.plausible_max:
        raise LabValueError(
            f"labs: {code} {number:g} {test.unit} is outside the physiologically possible "
            f"range {test.plausible_min:g}-{test.plausible_max:g} {test.unit} "
            "(check the value and the unit)",
            test=test,
            problem="implausible",
            value=value,
        )
    return number


def classify_lab(
    code: str, value: float, sex: str | None, tests: tuple[LabTest, ...] = LAB_TESTS
) -> LabClass:
    """Classify a lab value against its reference interval for ``sex``.

    Parameters
    ----------
    code : str
        Test code.
    value : float
        Result in the test's unit (validated with :func:`validate_lab`).
    sex : {"female", "male", "other"} or None
    tests : tuple of LabTest, optional

    Returns
    -------
    {"low", "normal", "high"}
        "low" if strictly below the lower limit, "high" if strictly above the upper
        limit, else "normal" (limits themselves are normal).
    """
    number = validate_lab(code, value, tests)
    ref = lab_test(code, tests).range_for(sex)
    if ref.low is not None and number < ref.low:
        return "low"
    if ref.high is not None and number > ref.high:
        return "high"
    return "normal"
