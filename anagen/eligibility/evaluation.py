"""Apply a ruleset to an assessment, or list it for people to read."""

from __future__ import annotations

import string
from collections.abc import Mapping

from anagen.eligibility import vocab
from anagen.eligibility.conditions import Context
from anagen.eligibility.default_ruleset import DEFAULT_RULESET
from anagen.eligibility.facts import AssessmentFacts
from anagen.eligibility.ruleset import Decision, Reason, Ruleset

__all__ = ["describe_ruleset", "evaluate"]


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
    ctx = Context(facts, ruleset)
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
