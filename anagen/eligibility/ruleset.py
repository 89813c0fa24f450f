"""Rules, rulesets and decisions: the types an eligibility ruleset is made of.

A :class:`Rule` is an id, the outcome it argues for, a declarative condition and the text
of the reason it gives. *Decisive* rules compete for the outcome; the outcome is the fired
decisive rule with the highest precedence. *Notes* (``decisive=False``) never change the
outcome but are listed among the reasons (e.g. recent loss, favourable for SVF).

Changing any rule or threshold means a new :attr:`Ruleset.version`; Django stores the
version with every decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from anagen.eligibility import vocab
from anagen.eligibility.conditions import Condition, threshold_names
from anagen.eligibility.labs import LAB_TESTS, LabTest

__all__ = [
    "DEFAULT_THRESHOLDS",
    "PRECEDENCE",
    "Decision",
    "Reason",
    "Rule",
    "Ruleset",
]

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


def _shallow_dict(obj: Any) -> dict[str, Any]:
    # Field order is the JSON key order; asdict() would also turn conditions into bare dicts.
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


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
        return _shallow_dict(self) | {"when": self.when.to_dict()}


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
        return _shallow_dict(self)


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
            for name in threshold_names(rule.when):
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
