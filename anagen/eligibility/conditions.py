"""The condition operators eligibility rules are built from.

A condition is a small frozen dataclass (:class:`In`, :class:`HasAny`, :class:`Compare`,
:class:`LabIs`, :class:`Missing`, :class:`AllOf`, :class:`AnyOf`, :class:`Not`) that can
test the facts, describe itself with the ruleset's thresholds filled in and turn itself
into JSON, so a ruleset can be listed, printed and stored as data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from anagen.eligibility import vocab
from anagen.eligibility.facts import AssessmentFacts
from anagen.eligibility.labs import classify_lab, lab_test

if TYPE_CHECKING:  # the ruleset holds conditions; conditions only read it
    from anagen.eligibility.ruleset import Ruleset

__all__ = [
    "AllOf",
    "AnyOf",
    "Compare",
    "Condition",
    "Context",
    "HasAny",
    "In",
    "LabIs",
    "Missing",
    "Not",
    "threshold_names",
]

_FIELDS = frozenset(AssessmentFacts.__dataclass_fields__) | {"basp_tokens"}
_SET_FIELDS = frozenset(
    {
        "triggers_last_6_months",
        "drugs",
        "prior_treatments",
        "contraindications",
        "trichoscopy_findings",
        "basp_tokens",
    }
)


@dataclass(frozen=True, slots=True)
class Context:
    """What a condition is tested against.

    Attributes
    ----------
    facts : AssessmentFacts
    ruleset : Ruleset
        Supplies thresholds (:class:`Compare`) and lab reference data (:class:`LabIs`).
    """

    facts: AssessmentFacts
    ruleset: Ruleset

    def value(self, name: str) -> Any:
        """The fact named ``name``."""
        return getattr(self.facts, name)


class Condition(Protocol):
    """A declarative predicate over :class:`AssessmentFacts`."""

    def test(self, ctx: Context) -> bool:
        """Evaluate on the facts in ``ctx``."""
        ...

    def describe(self, ruleset: Ruleset) -> str:
        """Plain-text description, thresholds filled in."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (``op`` plus operands)."""
        ...

    def fields(self) -> frozenset[str]:
        """Fact fields the condition reads (for validation)."""
        ...


def _fmt_values(values: tuple[object, ...]) -> str:
    return "{" + ", ".join(str(v) for v in values) + "}"


def _check_field(name: str, *, set_valued: bool | None = None) -> None:
    if name not in _FIELDS:
        raise ValueError(f"unknown fact field {name!r}")
    if set_valued is not None and (name in _SET_FIELDS) != set_valued:
        kind = "set-valued" if set_valued else "single-valued"
        raise ValueError(f"field {name!r} is not {kind}")


@dataclass(frozen=True, slots=True)
class In:
    """Single-valued ``field`` is one of ``values`` (never true when the field is None)."""

    field: str
    values: tuple[object, ...]

    def __post_init__(self) -> None:
        _check_field(self.field, set_valued=False)

    def test(self, ctx: Context) -> bool:
        value = ctx.value(self.field)
        return value is not None and value in self.values

    def describe(self, ruleset: Ruleset) -> str:
        return f"{self.field} in {_fmt_values(self.values)}"

    def to_dict(self) -> dict[str, Any]:
        return {"op": "in", "field": self.field, "values": list(self.values)}

    def fields(self) -> frozenset[str]:
        return frozenset({self.field})


@dataclass(frozen=True, slots=True)
class HasAny:
    """Set-valued ``field`` contains at least one of ``values``."""

    field: str
    values: tuple[str, ...]

    def __post_init__(self) -> None:
        _check_field(self.field, set_valued=True)

    def test(self, ctx: Context) -> bool:
        return not ctx.value(self.field).isdisjoint(self.values)

    def describe(self, ruleset: Ruleset) -> str:
        return f"{self.field} has any of {_fmt_values(self.values)}"

    def to_dict(self) -> dict[str, Any]:
        return {"op": "has_any", "field": self.field, "values": list(self.values)}

    def fields(self) -> frozenset[str]:
        return frozenset({self.field})


_OPS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


@dataclass(frozen=True, slots=True)
class Compare:
    """Numeric ``field`` compared with the ruleset threshold named ``threshold``.

    False when the field is None.
    """

    field: str
    op: Literal["<", "<=", ">", ">="]
    threshold: str

    def __post_init__(self) -> None:
        _check_field(self.field, set_valued=False)
        if self.op not in _OPS:
            raise ValueError(f"unknown comparison {self.op!r}")

    def test(self, ctx: Context) -> bool:
        value = ctx.value(self.field)
        return value is not None and _OPS[self.op](value, ctx.ruleset.thresholds[self.threshold])

    def describe(self, ruleset: Ruleset) -> str:
        return f"{self.field} {self.op} {ruleset.thresholds[self.threshold]:g} ({self.threshold})"

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "field": self.field, "threshold": self.threshold}

    def fields(self) -> frozenset[str]:
        return frozenset({self.field})


@dataclass(frozen=True, slots=True)
class LabIs:
    """Lab ``code`` was measured and classifies (by sex) as one of ``classes``."""

    code: str
    classes: tuple[Literal["low", "normal", "high"], ...]

    def test(self, ctx: Context) -> bool:
        value = ctx.facts.labs.get(self.code)
        if value is None:
            return False
        return classify_lab(self.code, value, ctx.facts.sex, ctx.ruleset.lab_tests) in self.classes

    def describe(self, ruleset: Ruleset) -> str:
        test = lab_test(self.code, ruleset.lab_tests)
        limits = []
        for sex in vocab.SEXES:
            ref = test.range_for(sex)
            parts = []
            if "low" in self.classes and ref.low is not None:
                parts.append(f"< {ref.low:g}")
            if "high" in self.classes and ref.high is not None:
                parts.append(f"> {ref.high:g}")
            limits.append((sex, " or ".join(parts)))
        if len({text for _, text in limits}) == 1:
            where = f"{limits[0][1]} {test.unit}"
        else:
            where = "; ".join(f"{sex} {text}" for sex, text in limits) + f" {test.unit}"
        return f"{self.code} is {' or '.join(self.classes)} ({where})"

    def to_dict(self) -> dict[str, Any]:
        return {"op": "lab_is", "lab": self.code, "values": list(self.classes)}

    def fields(self) -> frozenset[str]:
        return frozenset({"labs", "sex"})


@dataclass(frozen=True, slots=True)
class Missing:
    """Every one of ``fields_`` is None."""

    fields_: tuple[str, ...]

    def __post_init__(self) -> None:
        for name in self.fields_:
            _check_field(name, set_valued=False)

    def test(self, ctx: Context) -> bool:
        return all(ctx.value(name) is None for name in self.fields_)

    def describe(self, ruleset: Ruleset) -> str:
        return f"none of {_fmt_values(self.fields_)} recorded"

    def to_dict(self) -> dict[str, Any]:
        return {"op": "missing", "fields": list(self.fields_)}

    def fields(self) -> frozenset[str]:
        return frozenset(self.fields_)


@dataclass(frozen=True, slots=True)
class _Combination:
    """Sub-conditions joined by one logical operator (the base of :class:`AllOf`, :class:`AnyOf`)."""

    conditions: tuple[Condition, ...]
    _op: ClassVar[str]
    _word: ClassVar[str]
    _join: ClassVar[Callable[[Iterable[bool]], bool]]

    def test(self, ctx: Context) -> bool:
        # through the class: a callable class attribute would be bound to ``self`` for mypy
        return type(self)._join(c.test(ctx) for c in self.conditions)

    def describe(self, ruleset: Ruleset) -> str:
        return f" {self._word} ".join(f"({c.describe(ruleset)})" for c in self.conditions)

    def to_dict(self) -> dict[str, Any]:
        return {"op": self._op, "conditions": [c.to_dict() for c in self.conditions]}

    def fields(self) -> frozenset[str]:
        return frozenset().union(*(c.fields() for c in self.conditions))


@dataclass(frozen=True, slots=True)
class AllOf(_Combination):
    """All sub-conditions hold."""

    _op = "all"
    _word = "and"
    _join = all


@dataclass(frozen=True, slots=True)
class AnyOf(_Combination):
    """At least one sub-condition holds."""

    _op = "any"
    _word = "or"
    _join = any


@dataclass(frozen=True, slots=True)
class Not:
    """The sub-condition does not hold."""

    condition: Condition

    def test(self, ctx: Context) -> bool:
        return not self.condition.test(ctx)

    def describe(self, ruleset: Ruleset) -> str:
        return f"not ({self.condition.describe(ruleset)})"

    def to_dict(self) -> dict[str, Any]:
        return {"op": "not", "condition": self.condition.to_dict()}

    def fields(self) -> frozenset[str]:
        return self.condition.fields()


def threshold_names(cond: Condition) -> list[str]:
    """Names of the ruleset thresholds that ``cond`` compares against, nested ones too."""
    if isinstance(cond, Compare):
        return [cond.threshold]
    if isinstance(cond, _Combination):
        return [n for c in cond.conditions for n in threshold_names(c)]
    if isinstance(cond, Not):
        return threshold_names(cond.condition)
    return []
