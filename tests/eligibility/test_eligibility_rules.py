"""Eligibility rules: each rule alone, combinations, precedence, boundaries, validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anagen.eligibility import (
    DEFAULT_RULESET,
    PRECEDENCE,
    RULESET_VERSION,
    AssessmentFacts,
    Decision,
    HasAny,
    In,
    Rule,
    Ruleset,
    build_default_ruleset,
    describe_ruleset,
    evaluate,
    vocab,
)

# A clean baseline candidate: Norwood III, 3 years, normal labs, first-line tried.
BASE: dict[str, Any] = {
    "sex": "male",
    "age_years": 35,
    "loss_duration_months": 36,
    "pattern": "thinning",
    "norwood": "III",
    "prior_treatments": frozenset({"minoxidil"}),
    "labs": {"ferritin": 80.0, "tsh": 1.5, "vitamin_d": 75.0, "haemoglobin": 14.5},
}


def facts(**changes: Any) -> AssessmentFacts:
    return AssessmentFacts(**{**BASE, **changes})


def fired(decision: Decision) -> set[str]:
    return {r.rule_id for r in decision.reasons}


def test_baseline_is_a_plain_candidate() -> None:
    decision = evaluate(facts())
    assert decision.outcome == "candidate"
    assert fired(decision) == {"scale.norwood_early_moderate"}
    assert decision.ruleset_version == RULESET_VERSION == "2026.11-1"


# --- every rule on its own -------------------------------------------------------------

SCALE_OFF = {"norwood": None}
SINGLE_RULE_CASES: list[tuple[str, dict[str, Any], str]] = [
    *[
        (f"contraindication.{c}", {"contraindications": {c}}, "not_suitable")
        for c in (
            "pregnancy",
            "anticoagulation_or_bleeding_disorder",
            "active_scalp_infection_or_disease",
            "malignancy",
            "unfit_for_liposuction",
        )
    ],
    ("age.under_minimum", {"age_years": 17}, "not_suitable"),
    *[
        (f"contraindication.{c}", {"contraindications": {c}}, "specialist_referral")
        for c in ("alopecia_areata", "scarring_alopecia")
    ],
    *[
        (
            "trichoscopy.alopecia_areata_pattern",
            {"trichoscopy_findings": {f}},
            "specialist_referral",
        )
        for f in ("exclamation_mark_hairs", "black_dots")
    ],
    *[
        ("trichoscopy.scarring_pattern", {"trichoscopy_findings": {f}}, "specialist_referral")
        for f in ("loss_of_follicular_openings", "perifollicular_scale")
    ],
    ("scale.no_pattern_loss", {"norwood": "I"}, "specialist_referral"),
    ("lab.ferritin_low", {"labs": {**BASE["labs"], "ferritin": 12.0}}, "treat_cause_first"),
    ("lab.tsh_abnormal", {"labs": {**BASE["labs"], "tsh": 7.5}}, "treat_cause_first"),
    ("lab.tsh_abnormal", {"labs": {**BASE["labs"], "tsh": 0.05}}, "treat_cause_first"),
    ("lab.vitamin_d_low", {"labs": {**BASE["labs"], "vitamin_d": 30.0}}, "treat_cause_first"),
    ("lab.haemoglobin_low", {"labs": {**BASE["labs"], "haemoglobin": 11.0}}, "treat_cause_first"),
    *[
        (f"trigger.{t}", {"triggers_last_6_months": {t}}, "treat_cause_first")
        for t in vocab.TRIGGERS
    ],
    *[
        (f"drug.{d}", {"drugs": {d}}, "treat_cause_first")
        for d in vocab.DRUGS
        if d != "anticoagulants"
    ],
    ("scale.none_recorded", SCALE_OFF, "insufficient_information"),
    ("scale.norwood_advanced", {"norwood": "VI"}, "refer_for_transplant"),
    ("scale.norwood_advanced", {"norwood": "VII"}, "refer_for_transplant"),
    ("scale.ludwig_advanced", {**SCALE_OFF, "ludwig": "III"}, "refer_for_transplant"),
    ("scale.sinclair_advanced", {**SCALE_OFF, "sinclair": 5}, "refer_for_transplant"),
    ("scale.savin_advanced", {**SCALE_OFF, "savin": "III"}, "refer_for_transplant"),
    ("scale.savin_advanced", {**SCALE_OFF, "savin": "advanced"}, "refer_for_transplant"),
    ("scale.basp_advanced", {**SCALE_OFF, "basp": "U2"}, "refer_for_transplant"),
    ("scale.basp_advanced", {**SCALE_OFF, "basp": "C1F3"}, "refer_for_transplant"),
    ("scale.norwood_early_moderate", {"norwood": "V"}, "candidate"),
    ("scale.ludwig_early_moderate", {**SCALE_OFF, "ludwig": "I"}, "candidate"),
    ("scale.sinclair_early_moderate", {**SCALE_OFF, "sinclair": 2}, "candidate"),
    ("scale.savin_early_moderate", {**SCALE_OFF, "savin": "II-2"}, "candidate"),
    ("scale.basp_early_moderate", {**SCALE_OFF, "basp": "M2V1"}, "candidate"),
]


@pytest.mark.parametrize(
    ("rule_id", "changes", "outcome"),
    SINGLE_RULE_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(SINGLE_RULE_CASES)],
)
def test_each_decisive_rule_alone(rule_id: str, changes: dict[str, Any], outcome: str) -> None:
    decision = evaluate(facts(**changes))
    assert decision.outcome == outcome
    decisive = {r.rule_id for r in decision.reasons if r.decisive}
    # The rule under test fires; apart from it, only the (lower-precedence) scale rule.
    assert rule_id in decisive
    assert decisive - {rule_id} <= {"scale.norwood_early_moderate"}
    reason = next(r for r in decision.reasons if r.rule_id == rule_id)
    assert reason.outcome == outcome
    assert "?" not in reason.text and "{" not in reason.text


def test_every_rule_is_covered_by_a_test_case() -> None:
    covered = {c[0] for c in SINGLE_RULE_CASES} | {c[0] for c in NOTE_CASES}
    covered |= {"drug.anticoagulants", "duration.long_standing_with_follicle_loss"}
    assert {r.id for r in DEFAULT_RULESET.rules} <= covered


def test_anticoagulant_drug_is_a_drug_cause_with_a_bleeding_note() -> None:
    decision = evaluate(facts(drugs={"anticoagulants"}))
    assert decision.outcome == "treat_cause_first"
    assert {"drug.anticoagulants", "note.anticoagulant_drug"} <= fired(decision)


NOTE_CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("note.recent_loss", {"loss_duration_months": 6}, True),
    ("note.aga_trichoscopy", {"trichoscopy_findings": {"hair_diameter_diversity"}}, True),
    ("note.long_standing_without_follicle_loss", {"loss_duration_months": 200}, False),
    ("note.pull_test_positive", {"pull_test_positive": True}, False),
    ("note.shedding_pattern", {"pattern": "shedding"}, False),
    ("note.anticoagulant_drug", {"drugs": {"anticoagulants"}}, False),
    ("note.savin_frontal", {**SCALE_OFF, "savin": "frontal"}, False),
    ("note.no_first_line_treatment", {"prior_treatments": frozenset()}, False),
]


@pytest.mark.parametrize(("rule_id", "changes", "favourable"), NOTE_CASES)
def test_each_note_alone(rule_id: str, changes: dict[str, Any], favourable: bool) -> None:
    decision = evaluate(facts(**changes))
    reason = next(r for r in decision.reasons if r.rule_id == rule_id)
    assert not reason.decisive
    assert reason.favourable is favourable
    assert "?" not in reason.text and "{" not in reason.text


def test_notes_never_change_the_outcome() -> None:
    changes: dict[str, Any] = {
        "loss_duration_months": 200,
        "pull_test_positive": True,
        "pattern": "shedding",
        "prior_treatments": frozenset(),
        "trichoscopy_findings": {"hair_diameter_diversity"},
    }
    assert evaluate(facts(**changes)).outcome == "candidate"


def test_recent_loss_is_listed_as_favourable_for_a_candidate() -> None:
    decision = evaluate(facts(loss_duration_months=8))
    assert decision.outcome == "candidate"
    note = next(r for r in decision.reasons if r.rule_id == "note.recent_loss")
    assert note.favourable and note.outcome == "candidate" and "8 months" in note.text


# --- boundaries ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "outcome"),
    [
        ({"norwood": "I"}, "specialist_referral"),
        ({"norwood": "II"}, "candidate"),
        ({"norwood": "Va"}, "candidate"),
        ({"norwood": "V"}, "candidate"),
        ({"norwood": "VI"}, "refer_for_transplant"),
        ({**SCALE_OFF, "sinclair": 1}, "specialist_referral"),
        ({**SCALE_OFF, "sinclair": 4}, "candidate"),
        ({**SCALE_OFF, "sinclair": 5}, "refer_for_transplant"),
        ({**SCALE_OFF, "ludwig": "II"}, "candidate"),
        ({**SCALE_OFF, "ludwig": "III"}, "refer_for_transplant"),
        ({**SCALE_OFF, "savin": "I-1"}, "specialist_referral"),
        ({**SCALE_OFF, "savin": "I-2"}, "candidate"),
        ({**SCALE_OFF, "savin": "II-2"}, "candidate"),
        ({**SCALE_OFF, "savin": "III"}, "refer_for_transplant"),
        ({**SCALE_OFF, "basp": "L"}, "specialist_referral"),
        ({**SCALE_OFF, "basp": "M0"}, "specialist_referral"),
        ({**SCALE_OFF, "basp": "LV1"}, "candidate"),
        ({**SCALE_OFF, "basp": "M3V3"}, "candidate"),
        ({**SCALE_OFF, "basp": "M3F3"}, "refer_for_transplant"),
        ({**SCALE_OFF, "basp": "U1"}, "refer_for_transplant"),
        ({"labs": {"ferritin": 29.9}}, "treat_cause_first"),
        ({"labs": {"ferritin": 30.0}}, "candidate"),
        ({"labs": {"tsh": 0.39}}, "treat_cause_first"),
        ({"labs": {"tsh": 0.4}}, "candidate"),
        ({"labs": {"tsh": 4.0}}, "candidate"),
        ({"labs": {"tsh": 4.01}}, "treat_cause_first"),
        ({"labs": {"vitamin_d": 49.9}}, "treat_cause_first"),
        ({"labs": {"vitamin_d": 50.0}}, "candidate"),
        ({"labs": {"haemoglobin": 11.9}, "sex": "female"}, "treat_cause_first"),
        ({"labs": {"haemoglobin": 12.0}, "sex": "female"}, "candidate"),
        ({"labs": {"haemoglobin": 13.4}, "sex": "male"}, "treat_cause_first"),
        ({"labs": {"haemoglobin": 13.5}, "sex": "male"}, "candidate"),
        ({"labs": {"haemoglobin": 13.0}, "sex": "other"}, "candidate"),
        ({"labs": {"ferritin": 400.0}}, "candidate"),  # high ferritin is not a hair-loss cause
        ({"labs": {}}, "candidate"),  # labs not measured: no lab rule fires
        ({"age_years": 17}, "not_suitable"),
        ({"age_years": 18}, "candidate"),
        ({"age_years": None}, "candidate"),
    ],
)
def test_boundaries(changes: dict[str, Any], outcome: str) -> None:
    assert evaluate(facts(**changes)).outcome == outcome


MINIATURIZED = {"trichoscopy_findings": {"miniaturization"}}


@pytest.mark.parametrize(
    ("months", "findings", "outcome", "rule_id"),
    [
        (119, {"miniaturization"}, "candidate", None),
        (120, {"miniaturization"}, "candidate", None),
        (
            121,
            {"miniaturization"},
            "refer_for_transplant",
            "duration.long_standing_with_follicle_loss",
        ),
        (
            121,
            {"empty_follicles"},
            "refer_for_transplant",
            "duration.long_standing_with_follicle_loss",
        ),
        (121, set(), "candidate", "note.long_standing_without_follicle_loss"),
        (121, {"hair_diameter_diversity"}, "candidate", "note.long_standing_without_follicle_loss"),
        (None, {"empty_follicles"}, "candidate", None),
    ],
)
def test_long_standing_threshold(
    months: int | None, findings: set[str], outcome: str, rule_id: str | None
) -> None:
    decision = evaluate(facts(loss_duration_months=months, trichoscopy_findings=findings))
    assert decision.outcome == outcome
    if rule_id:
        assert rule_id in fired(decision)
    else:
        assert not {
            "duration.long_standing_with_follicle_loss",
            "note.long_standing_without_follicle_loss",
        } & fired(decision)


@pytest.mark.parametrize(("months", "fires"), [(23, True), (24, False), (0, True), (None, False)])
def test_recent_loss_threshold(months: int | None, fires: bool) -> None:
    assert ("note.recent_loss" in fired(evaluate(facts(loss_duration_months=months)))) is fires


def test_thresholds_are_configurable() -> None:
    ruleset = build_default_ruleset(version="test-96", thresholds={"long_standing_months": 96})
    decision = evaluate(facts(loss_duration_months=100, **MINIATURIZED), ruleset)
    assert decision.outcome == "refer_for_transplant"
    assert decision.ruleset_version == "test-96"
    assert "more than 96" in decision.reasons[0].text
    assert evaluate(facts(loss_duration_months=100, **MINIATURIZED)).outcome == "candidate"
    with pytest.raises(ValueError, match="unknown thresholds"):
        build_default_ruleset(thresholds={"long_standing_yrs": 8})


# --- combinations and precedence -------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "outcome", "also_fired"),
    [
        (
            {
                "contraindications": {"pregnancy"},
                "triggers_last_6_months": {"pregnancy_postpartum"},
            },
            "not_suitable",
            {"trigger.pregnancy_postpartum"},
        ),
        (
            {"contraindications": {"malignancy", "alopecia_areata"}, "drugs": {"chemotherapy"}},
            "not_suitable",
            {"contraindication.alopecia_areata", "drug.chemotherapy"},
        ),
        (
            {"trichoscopy_findings": {"black_dots"}, "labs": {"ferritin": 10.0}},
            "specialist_referral",
            {"lab.ferritin_low"},
        ),
        (
            {"labs": {"ferritin": 10.0}, "norwood": "VII"},
            "treat_cause_first",
            {"scale.norwood_advanced"},
        ),
        (
            {"drugs": {"retinoids"}, "norwood": None},
            "treat_cause_first",
            {"scale.none_recorded"},
        ),
        ({"norwood": None, "contraindications": {"pregnancy"}}, "not_suitable", set()),
        (
            {"norwood": None, "loss_duration_months": 200, **MINIATURIZED},
            "insufficient_information",
            {"duration.long_standing_with_follicle_loss"},
        ),
        (
            {"norwood": "IV", "sinclair": 5},
            "refer_for_transplant",
            {"scale.norwood_early_moderate", "scale.sinclair_advanced"},
        ),
        (
            {"norwood": "I", "sinclair": 3},
            "candidate",
            {"scale.sinclair_early_moderate"},
        ),
        (
            {"norwood": "I", "labs": {"tsh": 9.0}},
            "specialist_referral",
            {"lab.tsh_abnormal"},
        ),
        (
            {"loss_duration_months": 150, **MINIATURIZED, "triggers_last_6_months": {"stress"}},
            "treat_cause_first",
            {"duration.long_standing_with_follicle_loss"},
        ),
    ],
)
def test_combinations_and_precedence(
    changes: dict[str, Any], outcome: str, also_fired: set[str]
) -> None:
    decision = evaluate(facts(**changes))
    assert decision.outcome == outcome
    assert also_fired <= fired(decision)
    # ALL fired rules are listed, the winners first.
    assert decision.reasons[0].outcome == outcome and decision.reasons[0].decisive
    assert decision.deciding_reasons
    assert all(r.outcome == outcome for r in decision.deciding_reasons)


def test_all_fired_rules_are_reported_in_precedence_order() -> None:
    decision = evaluate(
        facts(
            contraindications={"pregnancy", "alopecia_areata"},
            labs={"ferritin": 5.0, "tsh": 10.0},
            drugs={"retinoids"},
            norwood="VI",
            loss_duration_months=6,
        )
    )
    decisive = [r for r in decision.reasons if r.decisive]
    ranks = [PRECEDENCE.index(r.outcome) for r in decisive]
    assert ranks == sorted(ranks)
    assert {r.outcome for r in decisive} == {
        "not_suitable",
        "specialist_referral",
        "treat_cause_first",
        "refer_for_transplant",
    }
    notes = decision.reasons[len(decisive) :]
    assert notes and not any(r.decisive for r in notes)


def test_precedence_order() -> None:
    assert PRECEDENCE[:3] == ("not_suitable", "specialist_referral", "treat_cause_first")
    assert PRECEDENCE.index("refer_for_transplant") < PRECEDENCE.index("candidate")
    assert sorted(PRECEDENCE) == sorted(vocab.OUTCOMES)


# --- facts validation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sex": "unknown"}, "sex"),
        ({"sex": None}, "sex"),
        ({"norwood": "VIII"}, "norwood"),
        ({"norwood": "iii"}, "norwood"),
        ({"ludwig": "IV"}, "ludwig"),
        ({"sinclair": 6}, "sinclair"),
        ({"sinclair": 0}, "sinclair"),
        ({"sinclair": "3"}, "sinclair"),
        ({"sinclair": True}, "sinclair"),
        ({"savin": "II-3"}, "savin"),
        ({"basp": "M5"}, "basp"),
        ({"pattern": "patchy"}, "pattern"),
        ({"triggers_last_6_months": {"covid"}}, "triggers_last_6_months"),
        ({"triggers_last_6_months": "stress"}, "triggers_last_6_months"),
        ({"drugs": {"lithium"}}, "drugs"),
        ({"prior_treatments": {"laser"}}, "prior_treatments"),
        ({"contraindications": {"diabetes"}}, "contraindications"),
        ({"trichoscopy_findings": {"tulip_hairs"}}, "trichoscopy_findings"),
        ({"labs": {"glucose": 5.0}}, "labs"),
        ({"labs": {"ferritin": -3.0}}, "labs"),
        ({"labs": {"haemoglobin": 140.0}}, "labs"),
        ({"labs": [("ferritin", 3.0)]}, "labs"),
        ({"age_years": -1}, "age_years"),
        ({"age_years": 200}, "age_years"),
        ({"age_years": 30.5}, "age_years"),
        ({"loss_duration_months": -2}, "loss_duration_months"),
        ({"pull_test_positive": "yes"}, "pull_test_positive"),
    ],
)
def test_invalid_facts_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        facts(**changes)


def test_unknown_code_message_names_the_value() -> None:
    with pytest.raises(ValueError, match=r"norwood: unknown value 'VIII'"):
        facts(norwood="VIII")
    with pytest.raises(ValueError, match=r"drugs: unknown value 'lithium'"):
        facts(drugs={"lithium", "retinoids"})


def test_facts_normalise_inputs_and_are_immutable() -> None:
    f = facts(drugs=["retinoids"], basp="m2 v1", labs={"ferritin": 40})
    assert f.drugs == frozenset({"retinoids"})
    assert f.basp == "M2V1"
    assert f.basp_tokens == frozenset({"M2", "V1"})
    assert f.labs["ferritin"] == 40.0
    with pytest.raises(TypeError):
        f.labs["ferritin"] = 1.0  # type: ignore[index]
    assert hash(f) == hash(facts(drugs={"retinoids"}, basp="M2V1", labs={"ferritin": 40.0}))
    assert f == facts(drugs={"retinoids"}, basp="M2V1", labs={"ferritin": 40.0})


def test_blank_strings_mean_not_recorded() -> None:
    f = facts(norwood="", ludwig="", savin="", basp="", pattern="")
    assert (f.norwood, f.ludwig, f.savin, f.basp, f.pattern) == (None,) * 5
    assert evaluate(f).outcome == "insufficient_information"


# --- output, ruleset, docs -------------------------------------------------------------


def test_to_dict_is_json() -> None:
    decision = evaluate(facts(labs={"ferritin": 12.0}, loss_duration_months=6))
    data = json.loads(json.dumps(decision.to_dict()))
    assert data["outcome"] == "treat_cause_first"
    assert data["ruleset_version"] == RULESET_VERSION
    assert data["reasons"][0] == {
        "rule_id": "lab.ferritin_low",
        "outcome": "treat_cause_first",
        "text": "Ferritin 12 µg/L is below 30 µg/L: treat iron deficiency first and reassess.",
        "favourable": False,
        "decisive": True,
    }


def test_rules_are_data() -> None:
    for rule in DEFAULT_RULESET.rules:
        json.dumps(rule.to_dict())
        assert rule.when.describe(DEFAULT_RULESET)
    assert DEFAULT_RULESET.rule("scale.norwood_advanced").when == In("norwood", ("VI", "VII"))


def test_ruleset_validation() -> None:
    rule = Rule("x", "candidate", "x", HasAny("drugs", ("retinoids",)), "x")
    with pytest.raises(ValueError, match="duplicate"):
        Ruleset(version="v", rules=(rule, rule))
    with pytest.raises(ValueError, match="precedence"):
        Ruleset(version="v", rules=(rule,), precedence=("candidate",))
    with pytest.raises(ValueError, match="outcome"):
        Rule("y", "maybe", "y", HasAny("drugs", ("retinoids",)), "y")
    with pytest.raises(ValueError, match="unknown fact field"):
        In("nor_wood", ("I",))
    with pytest.raises(ValueError, match="set-valued"):
        HasAny("norwood", ("I",))


def test_custom_ruleset_with_no_decisive_rule_fired() -> None:
    ruleset = Ruleset(
        version="tiny", rules=(Rule("x", "candidate", "x", HasAny("drugs", ("retinoids",)), "x"),)
    )
    decision = evaluate(facts(), ruleset)
    assert decision.outcome == "insufficient_information"
    assert decision.reasons[0].rule_id == "ruleset.no_rule_fired"


def test_describe_ruleset_lists_every_rule() -> None:
    text = describe_ruleset()
    assert RULESET_VERSION in text
    for rule in DEFAULT_RULESET.rules:
        assert f"`{rule.id}`" in text


def test_docs_contain_the_current_rule_table() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "eligibility.md"
    assert describe_ruleset() in docs.read_text(encoding="utf-8"), (
        "docs/eligibility.md is out of date: paste the output of "
        "`python -c 'from anagen.eligibility import describe_ruleset; "
        "print(describe_ruleset())'`"
    )


# --- property: outcome is the highest-precedence fired rule ----------------------------


def _opt(values: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.sampled_from(values))


def _subset(values: tuple[str, ...]) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(values))


basp_codes = st.builds(
    lambda b, f, v: b + f + v,
    st.sampled_from(["L", "M0", "M1", "M2", "M3", "C0", "C1", "C2", "C3", "U1", "U2", "U3"]),
    st.sampled_from(["", "F1", "F2", "F3"]),
    st.sampled_from(["", "V1", "V2", "V3"]),
)
labs = st.fixed_dictionaries(
    {},
    optional={
        "ferritin": st.floats(0, 1000),
        "tsh": st.floats(0, 20),
        "vitamin_d": st.floats(0, 300),
        "haemoglobin": st.floats(1, 25),
    },
)
all_facts = st.builds(
    AssessmentFacts,
    sex=st.sampled_from(vocab.SEXES),
    age_years=st.one_of(st.none(), st.integers(0, 100)),
    loss_duration_months=st.one_of(st.none(), st.integers(0, 600)),
    pattern=_opt(vocab.PATTERNS),
    norwood=_opt(vocab.NORWOOD),
    ludwig=_opt(vocab.LUDWIG),
    sinclair=_opt(vocab.SINCLAIR),
    savin=_opt(vocab.SAVIN),
    basp=st.one_of(st.none(), basp_codes),
    pull_test_positive=st.one_of(st.none(), st.booleans()),
    triggers_last_6_months=_subset(vocab.TRIGGERS),
    drugs=_subset(vocab.DRUGS),
    prior_treatments=_subset(vocab.PRIOR_TREATMENTS),
    labs=labs,
    contraindications=_subset(vocab.CONTRAINDICATIONS),
    trichoscopy_findings=_subset(vocab.TRICHOSCOPY_FINDINGS),
)


@settings(max_examples=400, deadline=None)
@given(all_facts)
def test_outcome_is_the_highest_precedence_fired_rule(f: AssessmentFacts) -> None:
    decision = evaluate(f)
    assert decision.reasons, "reasons are never empty"
    decisive = [r for r in decision.reasons if r.decisive]
    assert decisive, "some decisive rule always fires with the default ruleset"
    assert all(r.rule_id != "ruleset.no_rule_fired" for r in decision.reasons)
    best = min(decisive, key=lambda r: PRECEDENCE.index(r.outcome))
    assert decision.outcome == best.outcome
    assert decision.outcome in vocab.OUTCOMES
    # Reasons correspond exactly to the rules whose conditions hold.
    assert len({r.rule_id for r in decision.reasons}) == len(decision.reasons)
    for reason in decision.reasons:
        assert "{" not in reason.text and reason.text.strip()
    if not f.has_grading_scale:
        assert decision.outcome in {
            "not_suitable",
            "specialist_referral",
            "treat_cause_first",
            "insufficient_information",
        }
    if f.contraindications & {
        "pregnancy",
        "anticoagulation_or_bleeding_disorder",
        "active_scalp_infection_or_disease",
        "malignancy",
        "unfit_for_liposuction",
    }:
        assert decision.outcome == "not_suitable"
    if decision.outcome == "candidate":
        assert f.has_grading_scale and not f.contraindications
