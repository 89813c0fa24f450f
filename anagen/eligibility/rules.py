"""Eligibility rules as data, the default versioned ruleset, and the evaluator.

A rule is an id, the outcome it argues for, a declarative condition built from a few
operators (:class:`In`, :class:`HasAny`, :class:`Compare`, :class:`LabIs`,
:class:`Missing`, :class:`AllOf`, :class:`AnyOf`, :class:`Not`), and the text of the
reason it gives. *Decisive* rules compete for the outcome; the outcome is the fired
decisive rule with the highest precedence. *Notes* (``decisive=False``) never change the
outcome but are listed among the reasons (e.g. recent loss, favourable for SVF).

Changing any rule or threshold means a new :attr:`Ruleset.version`; Django stores the
version with every decision.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Protocol

from anagen.eligibility import vocab
from anagen.eligibility.facts import SCALE_FIELDS, AssessmentFacts
from anagen.eligibility.labs import LAB_TESTS, LabTest, classify_lab, lab_test

__all__ = [
    "DEFAULT_RULESET",
    "DEFAULT_THRESHOLDS",
    "PRECEDENCE",
    "RULESET_VERSION",
    "AllOf",
    "AnyOf",
    "Compare",
    "Condition",
    "Decision",
    "HasAny",
    "In",
    "LabIs",
    "Missing",
    "Not",
    "Reason",
    "Rule",
    "Ruleset",
    "build_default_ruleset",
    "describe_ruleset",
    "evaluate",
]

RULESET_VERSION = "2026.11-1"

PRECEDENCE: tuple[str, ...] = (
    "not_suitable",
    "specialist_referral",
    "treat_cause_first",
    "insufficient_information",
    "refer_for_transplant",
    "candidate",
)
"""Outcomes from highest to lowest precedence."""

DEFAULT_THRESHOLDS: Mapping[str, float] = MappingProxyType(
    {
        "long_standing_months": 120,  # > 10 years: long-standing loss
        "recent_loss_months": 24,  # < 2 years: recent loss, favourable
        "min_age_years": 18,  # elective investigational therapy: adults only
    }
)

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
class _Context:
    facts: AssessmentFacts
    ruleset: Ruleset

    def value(self, name: str) -> Any:
        return getattr(self.facts, name)


class Condition(Protocol):
    """A declarative predicate over :class:`AssessmentFacts`."""

    def test(self, ctx: _Context) -> bool:
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

    def test(self, ctx: _Context) -> bool:
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

    def test(self, ctx: _Context) -> bool:
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

    def test(self, ctx: _Context) -> bool:
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

    def test(self, ctx: _Context) -> bool:
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

    def test(self, ctx: _Context) -> bool:
        return all(ctx.value(name) is None for name in self.fields_)

    def describe(self, ruleset: Ruleset) -> str:
        return f"none of {_fmt_values(self.fields_)} recorded"

    def to_dict(self) -> dict[str, Any]:
        return {"op": "missing", "fields": list(self.fields_)}

    def fields(self) -> frozenset[str]:
        return frozenset(self.fields_)


@dataclass(frozen=True, slots=True)
class AllOf:
    """All sub-conditions hold."""

    conditions: tuple[Condition, ...]

    def test(self, ctx: _Context) -> bool:
        return all(c.test(ctx) for c in self.conditions)

    def describe(self, ruleset: Ruleset) -> str:
        return " and ".join(f"({c.describe(ruleset)})" for c in self.conditions)

    def to_dict(self) -> dict[str, Any]:
        return {"op": "all", "conditions": [c.to_dict() for c in self.conditions]}

    def fields(self) -> frozenset[str]:
        return frozenset().union(*(c.fields() for c in self.conditions))


@dataclass(frozen=True, slots=True)
class AnyOf:
    """At least one sub-condition holds."""

    conditions: tuple[Condition, ...]

    def test(self, ctx: _Context) -> bool:
        return any(c.test(ctx) for c in self.conditions)

    def describe(self, ruleset: Ruleset) -> str:
        return " or ".join(f"({c.describe(ruleset)})" for c in self.conditions)

    def to_dict(self) -> dict[str, Any]:
        return {"op": "any", "conditions": [c.to_dict() for c in self.conditions]}

    def fields(self) -> frozenset[str]:
        return frozenset().union(*(c.fields() for c in self.conditions))


@dataclass(frozen=True, slots=True)
class Not:
    """The sub-condition does not hold."""

    condition: Condition

    def test(self, ctx: _Context) -> bool:
        return not self.condition.test(ctx)

    def describe(self, ruleset: Ruleset) -> str:
        return f"not ({self.condition.describe(ruleset)})"

    def to_dict(self) -> dict[str, Any]:
        return {"op": "not", "condition": self.condition.to_dict()}

    def fields(self) -> frozenset[str]:
        return self.condition.fields()


@dataclass(frozen=True, slots=True)
class Rule:
    """One eligibility rule.

    Parameters
    ----------
    id : str
        Stable identifier, e.g. ``"scale.norwood_advanced"``.
    outcome : str
        The outcome this rule argues for (one of :data:`vocab.OUTCOMES`).
    description : str
        One line for the rule table.
    when : Condition
        Declarative condition.
    text : str
        The reason shown to the physician. ``str.format`` fields may name a threshold
        (``{long_standing_months}``), a fact (``{loss_duration_months}``, ``{age_years}``),
        a lab value (``{ferritin}``) or its limits (``{ferritin_low}``, ``{ferritin_high}``).
    favourable : bool, default False
        Whether the reason speaks for SVF therapy.
    decisive : bool, default True
        False for notes, which are reported but never decide the outcome.
    """

    id: str
    outcome: str
    description: str
    when: Condition
    text: str
    favourable: bool = False
    decisive: bool = True

    def __post_init__(self) -> None:
        if self.outcome not in vocab.OUTCOMES:
            raise ValueError(f"rule {self.id}: unknown outcome {self.outcome!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form of the rule."""
        return {
            "id": self.id,
            "outcome": self.outcome,
            "description": self.description,
            "when": self.when.to_dict(),
            "text": self.text,
            "favourable": self.favourable,
            "decisive": self.decisive,
        }


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a rule fired.

    Attributes
    ----------
    rule_id : str
    outcome : str
        The outcome the rule argues for (not necessarily the decision's outcome).
    text : str
        Human-readable explanation with the patient's values filled in.
    favourable : bool
        Whether it speaks for SVF therapy.
    decisive : bool
        False for notes that cannot decide the outcome.
    """

    rule_id: str
    outcome: str
    text: str
    favourable: bool
    decisive: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "rule_id": self.rule_id,
            "outcome": self.outcome,
            "text": self.text,
            "favourable": self.favourable,
            "decisive": self.decisive,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The eligibility decision: outcome plus every reason that fired.

    Attributes
    ----------
    outcome : str
        One of :data:`vocab.OUTCOMES`.
    reasons : tuple of Reason
        Every fired rule (decisive rules first, by precedence, then notes). Never empty.
    ruleset_version : str
    """

    outcome: str
    reasons: tuple[Reason, ...]
    ruleset_version: str

    @property
    def deciding_reasons(self) -> tuple[Reason, ...]:
        """The decisive reasons whose outcome is the decision's outcome."""
        return tuple(r for r in self.reasons if r.decisive and r.outcome == self.outcome)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (for storing in Django)."""
        return {
            "outcome": self.outcome,
            "outcome_label": vocab.LABELS[self.outcome],
            "ruleset_version": self.ruleset_version,
            "reasons": [r.to_dict() for r in self.reasons],
        }


@dataclass(frozen=True, slots=True)
class Ruleset:
    """A versioned set of rules with thresholds, lab reference data and precedence.

    Raises
    ------
    ValueError
        On duplicate rule ids, unknown outcomes, an incomplete precedence or a condition
        naming an undefined threshold.
    """

    version: str
    rules: tuple[Rule, ...]
    thresholds: Mapping[str, float] = field(default_factory=lambda: DEFAULT_THRESHOLDS)
    precedence: tuple[str, ...] = PRECEDENCE
    lab_tests: tuple[LabTest, ...] = LAB_TESTS

    def __post_init__(self) -> None:
        if not self.version:
            raise ValueError("ruleset version is required")
        if sorted(self.precedence) != sorted(vocab.OUTCOMES):
            raise ValueError("precedence must list every outcome exactly once")
        ids = [r.id for r in self.rules]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate rule ids: {duplicates}")
        object.__setattr__(self, "thresholds", MappingProxyType(dict(self.thresholds)))
        for rule in self.rules:
            for name in _threshold_names(rule.when):
                if name not in self.thresholds:
                    raise ValueError(f"rule {rule.id}: undefined threshold {name!r}")

    def rule(self, rule_id: str) -> Rule:
        """Return the rule with id ``rule_id``."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def rank(self, outcome: str) -> int:
        """Precedence rank of ``outcome``: 0 is the highest."""
        return self.precedence.index(outcome)


def _threshold_names(cond: Condition) -> list[str]:
    if isinstance(cond, Compare):
        return [cond.threshold]
    if isinstance(cond, AllOf | AnyOf):
        return [n for c in cond.conditions for n in _threshold_names(c)]
    if isinstance(cond, Not):
        return _threshold_names(cond.condition)
    return []


# --- the default ruleset ---------------------------------------------------------------

NORWOOD_EARLY_MODERATE = ("II", "IIa", "III", "IIIa", "III-vertex", "IV", "IVa", "V", "Va")
NORWOOD_ADVANCED = ("VI", "VII")
LUDWIG_EARLY_MODERATE = ("I", "II")
LUDWIG_ADVANCED = ("III",)
SINCLAIR_EARLY_MODERATE = (2, 3, 4)
SINCLAIR_ADVANCED = (5,)
SAVIN_EARLY_MODERATE = ("I-2", "I-3", "I-4", "II-1", "II-2", "frontal")
SAVIN_ADVANCED = ("III", "advanced")
BASP_LOSS_TOKENS = tuple(
    sorted(
        {"M1", "M2", "M3", "C1", "C2", "C3", "F1", "F2", "F3", "V1", "V2", "V3", "U1", "U2", "U3"}
    )
)
BASP_ADVANCED = tuple(sorted(vocab.BASP_ADVANCED_TOKENS))
AA_FINDINGS = ("exclamation_mark_hairs", "black_dots")
SCARRING_FINDINGS = ("loss_of_follicular_openings", "perifollicular_scale")
FOLLICLE_LOSS_FINDINGS = ("miniaturization", "empty_follicles")
AGA_FINDINGS = ("miniaturization", "hair_diameter_diversity", "peripilar_sign")

_NOT_SUITABLE_CONTRAINDICATIONS = (
    "pregnancy",
    "anticoagulation_or_bleeding_disorder",
    "active_scalp_infection_or_disease",
    "malignancy",
    "unfit_for_liposuction",
)
_SPECIALIST_CONTRAINDICATIONS = ("alopecia_areata", "scarring_alopecia")

_TRIGGER_TEXT = (
    "{label} in the last 6 months: possible telogen effluvium, which usually settles within "
    "6 months of the trigger. Address the trigger, wait and reassess before SVF."
)
_DRUG_TEXT = (
    "Takes a drug that can cause hair loss ({label}). Review the medication with the "
    "prescriber and reassess before SVF."
)


def _scale_loss_condition() -> Condition:
    """Some grading scale shows pattern loss (early, moderate or advanced)."""
    return AnyOf(
        (
            In("norwood", NORWOOD_EARLY_MODERATE + NORWOOD_ADVANCED),
            In("ludwig", LUDWIG_EARLY_MODERATE + LUDWIG_ADVANCED),
            In("sinclair", SINCLAIR_EARLY_MODERATE + SINCLAIR_ADVANCED),
            In("savin", SAVIN_EARLY_MODERATE + SAVIN_ADVANCED),
            HasAny("basp_tokens", BASP_LOSS_TOKENS),
        )
    )


def _default_rules() -> tuple[Rule, ...]:
    rules: list[Rule] = []
    # not_suitable
    for code in _NOT_SUITABLE_CONTRAINDICATIONS:
        rules.append(
            Rule(
                id=f"contraindication.{code}",
                outcome="not_suitable",
                description=f"Contraindication: {vocab.LABELS[code]}",
                when=HasAny("contraindications", (code,)),
                text=f"Contraindication: {vocab.LABELS[code]}. SVF harvest and therapy are "
                "not offered.",
            )
        )
    rules.append(
        Rule(
            id="age.under_minimum",
            outcome="not_suitable",
            description="Younger than the minimum age",
            when=Compare("age_years", "<", "min_age_years"),
            text="Age {age_years} is under {min_age_years:g}: this investigational, elective "
            "therapy is offered to adults only.",
        )
    )
    # specialist_referral
    for code in _SPECIALIST_CONTRAINDICATIONS:
        rules.append(
            Rule(
                id=f"contraindication.{code}",
                outcome="specialist_referral",
                description=f"Diagnosis: {vocab.LABELS[code]}",
                when=HasAny("contraindications", (code,)),
                text=f"{vocab.LABELS[code]} recorded: refer to a hair/dermatology specialist.",
            )
        )
    rules += [
        Rule(
            id="trichoscopy.alopecia_areata_pattern",
            outcome="specialist_referral",
            description="Trichoscopy suggests alopecia areata",
            when=HasAny("trichoscopy_findings", AA_FINDINGS),
            text="Trichoscopy shows exclamation-mark hairs or black dots (with yellow dots, "
            "typical of alopecia areata): refer to a specialist to confirm the diagnosis.",
        ),
        Rule(
            id="trichoscopy.scarring_pattern",
            outcome="specialist_referral",
            description="Trichoscopy suggests scarring alopecia",
            when=HasAny("trichoscopy_findings", SCARRING_FINDINGS),
            text="Trichoscopy shows loss of follicular openings or perifollicular scale, "
            "suggesting scarring alopecia: refer to a specialist (biopsy may be needed).",
        ),
        Rule(
            id="scale.no_pattern_loss",
            outcome="specialist_referral",
            description="Grading scales recorded but none shows pattern loss",
            when=AllOf((Not(Missing(SCALE_FIELDS)), Not(_scale_loss_condition()))),
            text="The grading scales show no pattern hair loss (e.g. Norwood I, Sinclair 1, "
            "Savin I-1, BASP L/M0/C0): the complaint is not explained by pattern loss; refer "
            "for a dermatological diagnosis.",
        ),
    ]
    # treat_cause_first: labs, triggers, drugs
    rules += [
        Rule(
            id="lab.ferritin_low",
            outcome="treat_cause_first",
            description="Low ferritin",
            when=LabIs("ferritin", ("low",)),
            text="Ferritin {ferritin:g} µg/L is below {ferritin_low:g} µg/L: treat iron "
            "deficiency first and reassess.",
        ),
        Rule(
            id="lab.tsh_abnormal",
            outcome="treat_cause_first",
            description="Abnormal TSH",
            when=LabIs("tsh", ("low", "high")),
            text="TSH {tsh:g} mIU/L is outside {tsh_low:g}-{tsh_high:g} mIU/L: evaluate and "
            "treat thyroid disease first.",
        ),
        Rule(
            id="lab.vitamin_d_low",
            outcome="treat_cause_first",
            description="Low 25-OH vitamin D",
            when=LabIs("vitamin_d", ("low",)),
            text="25-OH vitamin D {vitamin_d:g} nmol/L is below {vitamin_d_low:g} nmol/L "
            "(insufficient): correct it first and reassess.",
        ),
        Rule(
            id="lab.haemoglobin_low",
            outcome="treat_cause_first",
            description="Low haemoglobin",
            when=LabIs("haemoglobin", ("low",)),
            text="Haemoglobin {haemoglobin:g} g/dL is below {haemoglobin_low:g} g/dL "
            "(anaemia): investigate and treat first.",
        ),
    ]
    for code in vocab.TRIGGERS:
        rules.append(
            Rule(
                id=f"trigger.{code}",
                outcome="treat_cause_first",
                description=f"Telogen-effluvium trigger: {vocab.LABELS[code]}",
                when=HasAny("triggers_last_6_months", (code,)),
                text=_TRIGGER_TEXT.format(label=vocab.LABELS[code]),
            )
        )
    for code in vocab.DRUGS:
        rules.append(
            Rule(
                id=f"drug.{code}",
                outcome="treat_cause_first",
                description=f"Drug-induced hair loss: {vocab.LABELS[code]}",
                when=HasAny("drugs", (code,)),
                text=_DRUG_TEXT.format(label=vocab.LABELS[code]),
            )
        )
    # insufficient_information
    rules.append(
        Rule(
            id="scale.none_recorded",
            outcome="insufficient_information",
            description="No grading scale recorded",
            when=Missing(SCALE_FIELDS),
            text="No grading scale (Norwood-Hamilton, Ludwig, Sinclair, Savin or BASP) is "
            "recorded: grade the hair loss before deciding.",
        )
    )
    # refer_for_transplant
    advanced = (
        ("norwood", In("norwood", NORWOOD_ADVANCED), "Norwood-Hamilton {norwood}"),
        ("ludwig", In("ludwig", LUDWIG_ADVANCED), "Ludwig {ludwig}"),
        ("sinclair", In("sinclair", SINCLAIR_ADVANCED), "Sinclair {sinclair}"),
        ("savin", In("savin", SAVIN_ADVANCED), "Savin {savin}"),
        ("basp", HasAny("basp_tokens", BASP_ADVANCED), "BASP {basp}"),
    )
    for name, cond, grade in advanced:
        rules.append(
            Rule(
                id=f"scale.{name}_advanced",
                outcome="refer_for_transplant",
                description=f"Advanced loss on the {name.capitalize()} scale",
                when=cond,
                text=f"{grade}: advanced loss with few living follicles in the affected area; "
                "hair transplant is the better option.",
            )
        )
    rules.append(
        Rule(
            id="duration.long_standing_with_follicle_loss",
            outcome="refer_for_transplant",
            description="Long-standing loss with miniaturized or empty follicles",
            when=AllOf(
                (
                    Compare("loss_duration_months", ">", "long_standing_months"),
                    HasAny("trichoscopy_findings", FOLLICLE_LOSS_FINDINGS),
                )
            ),
            text="Hair loss for {loss_duration_months} months (more than "
            "{long_standing_months:g}) with miniaturized or empty follicles: long-standing "
            "loss responds poorly; hair transplant is the better option.",
        )
    )
    # candidate
    early = (
        ("norwood", In("norwood", NORWOOD_EARLY_MODERATE), "Norwood-Hamilton {norwood}"),
        ("ludwig", In("ludwig", LUDWIG_EARLY_MODERATE), "Ludwig {ludwig}"),
        ("sinclair", In("sinclair", SINCLAIR_EARLY_MODERATE), "Sinclair {sinclair}"),
        ("savin", In("savin", SAVIN_EARLY_MODERATE), "Savin {savin}"),
        (
            "basp",
            AllOf(
                (HasAny("basp_tokens", BASP_LOSS_TOKENS), Not(HasAny("basp_tokens", BASP_ADVANCED)))
            ),
            "BASP {basp}",
        ),
    )
    for name, cond, grade in early:
        rules.append(
            Rule(
                id=f"scale.{name}_early_moderate",
                outcome="candidate",
                description=f"Early or moderate pattern loss on the {name.capitalize()} scale",
                when=cond,
                text=f"{grade}: early or moderate pattern hair loss with living follicles.",
                favourable=True,
            )
        )
    # notes
    rules += [
        Rule(
            id="note.recent_loss",
            outcome="candidate",
            description="Recent loss (favourable)",
            when=Compare("loss_duration_months", "<", "recent_loss_months"),
            text="Hair loss for {loss_duration_months} months (less than "
            "{recent_loss_months:g}): recent loss responds best.",
            favourable=True,
            decisive=False,
        ),
        Rule(
            id="note.aga_trichoscopy",
            outcome="candidate",
            description="Trichoscopy signs of androgenetic alopecia (favourable)",
            when=HasAny("trichoscopy_findings", AGA_FINDINGS),
            text="Trichoscopy shows signs of androgenetic alopecia (miniaturization, diameter "
            "diversity or peripilar sign) — follicles are present.",
            favourable=True,
            decisive=False,
        ),
        Rule(
            id="note.long_standing_without_follicle_loss",
            outcome="refer_for_transplant",
            description="Long-standing loss, no miniaturized/empty follicles recorded",
            when=AllOf(
                (
                    Compare("loss_duration_months", ">", "long_standing_months"),
                    Not(HasAny("trichoscopy_findings", FOLLICLE_LOSS_FINDINGS)),
                )
            ),
            text="Hair loss for {loss_duration_months} months (more than "
            "{long_standing_months:g}): response may be limited; check the trichoscopy for "
            "miniaturized or empty follicles.",
            decisive=False,
        ),
        Rule(
            id="note.pull_test_positive",
            outcome="treat_cause_first",
            description="Positive pull test",
            when=In("pull_test_positive", (True,)),
            text="Positive pull test: active shedding — exclude telogen effluvium and active "
            "alopecia areata.",
            decisive=False,
        ),
        Rule(
            id="note.shedding_pattern",
            outcome="treat_cause_first",
            description="Shedding is the main complaint",
            when=In("pattern", ("shedding",)),
            text="Shedding rather than thinning is the main complaint, which suggests telogen "
            "effluvium: look for a cause.",
            decisive=False,
        ),
        Rule(
            id="note.anticoagulant_drug",
            outcome="not_suitable",
            description="Anticoagulant drug: bleeding risk at harvest",
            when=HasAny("drugs", ("anticoagulants",)),
            text="Takes anticoagulants: bleeding risk at liposuction. Record the "
            "anticoagulation contraindication if the drug cannot be paused safely.",
            decisive=False,
        ),
        Rule(
            id="note.savin_frontal",
            outcome="specialist_referral",
            description="Savin frontal pattern: exclude frontal fibrosing alopecia",
            when=In("savin", ("frontal",)),
            text="Frontal pattern: exclude frontal fibrosing alopecia (look for loss of "
            "follicular openings and perifollicular scale).",
            decisive=False,
        ),
        Rule(
            id="note.no_first_line_treatment",
            outcome="candidate",
            description="Approved first-line treatments not tried",
            when=Not(HasAny("prior_treatments", ("minoxidil", "finasteride_dutasteride"))),
            text="Neither minoxidil nor finasteride/dutasteride has been tried: discuss "
            "approved first-line treatments, since SVF therapy is investigational.",
            decisive=False,
        ),
    ]
    return tuple(rules)


def build_default_ruleset(
    *,
    version: str = RULESET_VERSION,
    thresholds: Mapping[str, float] | None = None,
    lab_tests: tuple[LabTest, ...] = LAB_TESTS,
) -> Ruleset:
    """Build the default rules, optionally with other thresholds or lab reference data.

    Parameters
    ----------
    version : str
        Give a new version whenever thresholds or lab data differ from the defaults.
    thresholds : Mapping[str, float], optional
        Overrides merged over :data:`DEFAULT_THRESHOLDS`.
    lab_tests : tuple of LabTest, optional

    Returns
    -------
    Ruleset
    """
    merged = dict(DEFAULT_THRESHOLDS)
    if thresholds:
        unknown = set(thresholds) - set(merged)
        if unknown:
            raise ValueError(f"unknown thresholds: {sorted(unknown)}")
        merged.update(thresholds)
    return Ruleset(version=version, rules=_default_rules(), thresholds=merged, lab_tests=lab_tests)


DEFAULT_RULESET: Ruleset = build_default_ruleset()


# --- evaluation ------------------------------------------------------------------------


class _TemplateValues(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "?"


def _template_values(facts: AssessmentFacts, ruleset: Ruleset) -> _TemplateValues:
    values = _TemplateValues(ruleset.thresholds)
    for name in facts.__dataclass_fields__:
        value = getattr(facts, name)
        if not isinstance(value, frozenset | Mapping):
            values[name] = value
    for test in ruleset.lab_tests:
        ref = test.range_for(facts.sex)
        values[f"{test.code}_low"] = ref.low if ref.low is not None else float("nan")
        values[f"{test.code}_high"] = ref.high if ref.high is not None else float("nan")
        if test.code in facts.labs:
            values[test.code] = facts.labs[test.code]
    return values


def _render(template: str, values: _TemplateValues) -> str:
    # Only fields that are present are substituted; a missing one renders as "?".
    formatter = string.Formatter()
    out = []
    for literal, name, spec, conversion in formatter.parse(template):
        out.append(literal)
        if name is None:
            continue
        value = values[name]
        if value is None or (isinstance(value, str) and value == "?"):
            out.append("?")
            continue
        if conversion:
            value = formatter.convert_field(value, conversion)
        out.append(format(value, spec or ""))
    return "".join(out)


def evaluate(facts: AssessmentFacts, ruleset: Ruleset = DEFAULT_RULESET) -> Decision:
    """Evaluate every rule of ``ruleset`` on ``facts``.

    Parameters
    ----------
    facts : AssessmentFacts
    ruleset : Ruleset, optional
        Defaults to :data:`DEFAULT_RULESET`.

    Returns
    -------
    Decision
        The outcome is the fired decisive rule with the highest precedence; reasons list
        every fired rule, decisive ones first (by precedence, then rule order), then notes.
        If no decisive rule fires (impossible with the default ruleset), the outcome is
        ``insufficient_information`` with reason ``ruleset.no_rule_fired``.
    """
    if not isinstance(facts, AssessmentFacts):
        raise TypeError("facts must be an AssessmentFacts")
    ctx = _Context(facts, ruleset)
    values = _template_values(facts, ruleset)
    fired = [rule for rule in ruleset.rules if rule.when.test(ctx)]
    decisive = sorted(
        (r for r in fired if r.decisive),
        key=lambda r: ruleset.rank(r.outcome),
    )
    notes = [r for r in fired if not r.decisive]
    reasons = [
        Reason(r.id, r.outcome, _render(r.text, values), r.favourable, r.decisive)
        for r in (*decisive, *notes)
    ]
    if decisive:
        outcome = decisive[0].outcome
    else:
        outcome = "insufficient_information"
        reasons.insert(
            0,
            Reason(
                "ruleset.no_rule_fired",
                outcome,
                "No decisive rule applies to this assessment.",
                False,
                True,
            ),
        )
    return Decision(outcome=outcome, reasons=tuple(reasons), ruleset_version=ruleset.version)


def describe_ruleset(ruleset: Ruleset = DEFAULT_RULESET) -> str:
    """List the ruleset as Markdown: version, precedence, thresholds and rule table.

    Parameters
    ----------
    ruleset : Ruleset, optional

    Returns
    -------
    str
    """
    lines = [
        f"Ruleset version: `{ruleset.version}`",
        "",
        "Precedence (highest first): " + " > ".join(f"`{o}`" for o in ruleset.precedence),
        "",
        "| threshold | value |",
        "|---|---|",
        *(f"| `{k}` | {v:g} |" for k, v in ruleset.thresholds.items()),
        "",
        "| lab | unit | female | male | other |",
        "|---|---|---|---|---|",
    ]
    for test in ruleset.lab_tests:
        cells = []
        for sex in vocab.SEXES:
            ref = test.range_for(sex)
            low = "" if ref.low is None else f"{ref.low:g}"
            high = "" if ref.high is None else f"{ref.high:g}"
            cells.append(f"{low}-{high}")
        lines.append(f"| `{test.code}` | {test.unit} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| rule | kind | outcome | fires when | description |",
        "|---|---|---|---|---|",
    ]
    for rule in ruleset.rules:
        kind = "decisive" if rule.decisive else "note"
        if rule.favourable:
            kind += ", favourable"
        when = rule.when.describe(ruleset).replace("|", "\\|")
        lines.append(f"| `{rule.id}` | {kind} | `{rule.outcome}` | {when} | {rule.description} |")
    return "\n".join(lines) + "\n"
