"""The assessment facts the eligibility rules are evaluated on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from anagen.eligibility import vocab
from anagen.eligibility.labs import LAB_TESTS_BY_CODE, validate_lab

__all__ = ["SCALE_FIELDS", "AssessmentFacts"]

SCALE_FIELDS: tuple[str, ...] = ("norwood", "ludwig", "sinclair", "savin", "basp")
"""The grading-scale fields; with none of them set the decision is insufficient_information."""

_SCALAR_CODES: dict[str, tuple[object, ...]] = {
    "sex": vocab.SEXES,
    "pattern": vocab.PATTERNS,
    "norwood": vocab.NORWOOD,
    "ludwig": vocab.LUDWIG,
    "savin": vocab.SAVIN,
}
_SET_CODES: dict[str, tuple[str, ...]] = {
    "triggers_last_6_months": vocab.TRIGGERS,
    "drugs": vocab.DRUGS,
    "prior_treatments": vocab.PRIOR_TREATMENTS,
    "contraindications": vocab.CONTRAINDICATIONS,
    "trichoscopy_findings": vocab.TRICHOSCOPY_FINDINGS,
}
MAX_AGE_YEARS = 130
MAX_DURATION_MONTHS = 12 * 120


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name}: expected an integer or None, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name}: {value} is out of range {low}-{high}")


@dataclass(frozen=True)
class AssessmentFacts:
    """Structured assessment of one patient, as evaluated by the eligibility rules.

    All codes are validated on construction; an unknown code raises ``ValueError`` naming
    the field and the value. Set-valued fields accept any iterable of codes and are stored
    as ``frozenset``; ``labs`` is stored as a read-only mapping.

    Parameters
    ----------
    sex : {"female", "male", "other"}
    age_years : int or None
    loss_duration_months : int or None
        How long the hair loss has been going on.
    pattern : {"thinning", "shedding", "mixed"} or None
    norwood, ludwig, savin : str or None
        Scale grades from :data:`vocab.NORWOOD`, :data:`vocab.LUDWIG`, :data:`vocab.SAVIN`.
    sinclair : int or None
        1-5.
    basp : str or None
        BASP code, e.g. ``"M2V1"``; stored in canonical form (see :func:`vocab.parse_basp`).
    pull_test_positive : bool or None
    triggers_last_6_months, drugs, prior_treatments, contraindications, trichoscopy_findings
        Sets of codes from the vocabularies of the same name.
    labs : Mapping[str, float]
        Keys ``ferritin`` (µg/L), ``tsh`` (mIU/L), ``vitamin_d`` (nmol/L), ``haemoglobin``
        (g/dL); missing keys mean "not measured".
    """

    sex: str
    age_years: int | None = None
    loss_duration_months: int | None = None
    pattern: str | None = None
    norwood: str | None = None
    ludwig: str | None = None
    sinclair: int | None = None
    savin: str | None = None
    basp: str | None = None
    pull_test_positive: bool | None = None
    triggers_last_6_months: frozenset[str] = frozenset()
    drugs: frozenset[str] = frozenset()
    prior_treatments: frozenset[str] = frozenset()
    labs: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    contraindications: frozenset[str] = frozenset()
    trichoscopy_findings: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name in ("pattern", "norwood", "ludwig", "savin", "basp"):
            if getattr(self, name) == "":  # Django's blank CharField means "not recorded"
                object.__setattr__(self, name, None)
        if self.sex is None:
            raise ValueError("sex: required (female, male or other)")
        for name, allowed in _SCALAR_CODES.items():
            value = getattr(self, name)
            if value is not None and value not in allowed:
                raise ValueError(
                    f"{name}: unknown value {value!r} (allowed: {', '.join(map(str, allowed))})"
                )
        if self.sinclair is not None and (
            isinstance(self.sinclair, bool) or self.sinclair not in vocab.SINCLAIR
        ):
            raise ValueError(f"sinclair: unknown value {self.sinclair!r} (allowed: 1-5)")
        _check_int("age_years", self.age_years, 0, MAX_AGE_YEARS)
        _check_int("loss_duration_months", self.loss_duration_months, 0, MAX_DURATION_MONTHS)
        if self.pull_test_positive is not None and not isinstance(self.pull_test_positive, bool):
            raise ValueError(
                f"pull_test_positive: expected True, False or None, got {self.pull_test_positive!r}"
            )
        if self.basp is not None:
            object.__setattr__(self, "basp", vocab.parse_basp(self.basp).code)
        for name, allowed in _SET_CODES.items():
            object.__setattr__(self, name, _code_set(name, getattr(self, name), allowed))
        object.__setattr__(self, "labs", _labs(self.labs))

    @property
    def basp_tokens(self) -> frozenset[str]:
        """BASP tokens, e.g. ``{"M2", "V1"}``; empty if no BASP code."""
        return vocab.parse_basp(self.basp).tokens if self.basp else frozenset()

    @property
    def has_grading_scale(self) -> bool:
        """Whether at least one grading scale is recorded."""
        return any(getattr(self, name) is not None for name in SCALE_FIELDS)

    def __hash__(self) -> int:
        return hash(
            tuple(
                tuple(sorted(self.labs.items())) if name == "labs" else getattr(self, name)
                for name in self.__dataclass_fields__
            )
        )


def _code_set(name: str, value: object, allowed: tuple[str, ...]) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(f"{name}: expected a set of codes, got {value!r}")
    codes = frozenset(value)
    unknown = sorted(map(repr, codes - set(allowed)))
    if unknown:
        raise ValueError(
            f"{name}: unknown value {', '.join(unknown)} (allowed: {', '.join(allowed)})"
        )
    return codes


def _labs(value: object) -> Mapping[str, float]:
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise ValueError(f"labs: expected a mapping of test code to value, got {value!r}")
    out: dict[str, float] = {}
    for code, number in value.items():
        if code not in LAB_TESTS_BY_CODE:
            raise ValueError(
                f"labs: unknown value {code!r} (allowed: {', '.join(LAB_TESTS_BY_CODE)})"
            )
        if number is None:
            continue
        out[code] = validate_lab(code, number)
    return MappingProxyType(out)
