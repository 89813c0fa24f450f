"""The clinic's default eligibility ruleset, versioned.

The scale groupings and trichoscopy findings below decide which rule fires; any change to
them, to a rule or to a threshold needs a new :data:`RULESET_VERSION`.
"""

from __future__ import annotations

from collections.abc import Mapping

from anagen.eligibility import vocab
from anagen.eligibility.conditions import (
    AllOf,
    AnyOf,
    Compare,
    Condition,
    HasAny,
    In,
    LabIs,
    Missing,
    Not,
)
from anagen.eligibility.facts import SCALE_FIELDS
from anagen.eligibility.labs import LAB_TESTS, LabTest
from anagen.eligibility.ruleset import DEFAULT_THRESHOLDS, Rule, Ruleset

__all__ = [
    "DEFAULT_RULESET",
    "RULESET_VERSION",
    "build_default_ruleset",
]

RULESET_VERSION = "2026.11-1"

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
    advanced: tuple[tuple[str, Condition, str], ...] = (
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
    early: tuple[tuple[str, Condition, str], ...] = (
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
