"""Controlled vocabularies for the hair-loss assessment (used by Django as form choices).

Every code has a human label in :data:`LABELS`. BASP codes are free text validated by
:func:`parse_basp`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "BASP_ADVANCED_TOKENS",
    "BASP_NO_LOSS_TOKENS",
    "BASP_RE",
    "CONTRAINDICATIONS",
    "DRUGS",
    "LABELS",
    "LUDWIG",
    "NORWOOD",
    "OUTCOMES",
    "OUTCOME_LABELS",
    "PATTERNS",
    "PRIOR_TREATMENTS",
    "SAVIN",
    "SEXES",
    "SINCLAIR",
    "TRICHOSCOPY_FINDINGS",
    "TRIGGERS",
    "Basp",
    "choices",
    "parse_basp",
]

NORWOOD = ("I", "II", "IIa", "III", "IIIa", "III-vertex", "IV", "IVa", "V", "Va", "VI", "VII")
LUDWIG = ("I", "II", "III")
SINCLAIR = (1, 2, 3, 4, 5)
SAVIN = ("I-1", "I-2", "I-3", "I-4", "II-1", "II-2", "III", "advanced", "frontal")
TRIGGERS = ("pregnancy_postpartum", "fever_or_surgery", "crash_diet", "stress")
DRUGS = ("retinoids", "anticoagulants", "beta_blockers", "anabolic_steroids", "chemotherapy")
PRIOR_TREATMENTS = ("minoxidil", "finasteride_dutasteride", "prp", "transplant")
CONTRAINDICATIONS = (
    "pregnancy",
    "anticoagulation_or_bleeding_disorder",
    "active_scalp_infection_or_disease",
    "malignancy",
    "alopecia_areata",
    "scarring_alopecia",
    "unfit_for_liposuction",
)
TRICHOSCOPY_FINDINGS = (
    "miniaturization",
    "hair_diameter_diversity",
    "yellow_dots",
    "peripilar_sign",
    "exclamation_mark_hairs",
    "black_dots",
    "loss_of_follicular_openings",
    "perifollicular_scale",
    "empty_follicles",
)
PATTERNS = ("thinning", "shedding", "mixed")
SEXES = ("female", "male", "other")
OUTCOME_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "candidate": "Candidate",
        "treat_cause_first": "Treat cause first",
        "refer_for_transplant": "Refer for hair transplant",
        "specialist_referral": "Specialist referral",
        "not_suitable": "Not suitable",
        "insufficient_information": "Insufficient information",
    }
)
"""Eligibility outcomes and the labels the clinic shows for them.

The one list of outcomes: the rules, the decision's ``outcome_label`` and the Django
model's choices all read it (Django records the labels in its migrations).
"""
OUTCOMES: tuple[str, ...] = tuple(OUTCOME_LABELS)

LABELS: dict[str, str] = {
    # triggers
    "pregnancy_postpartum": "Pregnancy or postpartum",
    "fever_or_surgery": "High fever, severe illness or surgery",
    "crash_diet": "Crash diet or rapid weight loss",
    "stress": "Severe emotional or physical stress",
    # drugs
    "retinoids": "Retinoids (e.g. isotretinoin, acitretin)",
    "anticoagulants": "Anticoagulants (e.g. warfarin, heparin, DOACs)",
    "beta_blockers": "Beta-blockers",
    "anabolic_steroids": "Anabolic steroids or testosterone",
    "chemotherapy": "Chemotherapy",
    # prior treatments
    "minoxidil": "Minoxidil",
    "finasteride_dutasteride": "Finasteride or dutasteride",
    "prp": "Platelet-rich plasma (PRP)",
    "transplant": "Hair transplant",
    # contraindications
    "pregnancy": "Pregnancy or breastfeeding",
    "anticoagulation_or_bleeding_disorder": "Anticoagulation or bleeding disorder",
    "active_scalp_infection_or_disease": "Active scalp infection or inflammatory scalp disease",
    "malignancy": "Active or recent malignancy",
    "alopecia_areata": "Alopecia areata",
    "scarring_alopecia": "Scarring (cicatricial) alopecia",
    "unfit_for_liposuction": "Unfit for mini-liposuction / local anaesthesia",
    # trichoscopy
    "miniaturization": "Miniaturized hairs",
    "hair_diameter_diversity": "Hair shaft diameter diversity (> 20 %)",
    "yellow_dots": "Yellow dots",
    "peripilar_sign": "Peripilar sign (brown halo)",
    "exclamation_mark_hairs": "Exclamation-mark hairs",
    "black_dots": "Black dots",
    "loss_of_follicular_openings": "Loss of follicular openings",
    "perifollicular_scale": "Perifollicular scale",
    "empty_follicles": "Empty follicles",
    # patterns
    "thinning": "Gradual thinning",
    "shedding": "Increased shedding",
    "mixed": "Thinning and shedding",
    # sexes
    "female": "Female",
    "male": "Male",
    "other": "Other / not stated",
    # outcomes
    **OUTCOME_LABELS,
}

# Scale values have labels too; keys are prefixed so they cannot clash with the codes above.
LABELS.update({f"norwood:{v}": f"Norwood-Hamilton {v}" for v in NORWOOD})
LABELS.update({f"ludwig:{v}": f"Ludwig {v}" for v in LUDWIG})
LABELS.update({f"sinclair:{v}": f"Sinclair {v}" for v in SINCLAIR})
LABELS.update(
    {f"savin:{v}": f"Savin {v}" for v in SAVIN if v not in ("advanced", "frontal")}
    | {"savin:advanced": "Savin advanced", "savin:frontal": "Savin frontal"}
)


def choices(codes: tuple[str, ...] | tuple[int, ...], prefix: str = "") -> list[tuple[object, str]]:
    """Return Django-style ``(value, label)`` pairs for a vocabulary.

    Parameters
    ----------
    codes : tuple
        One of the vocabularies, e.g. :data:`DRUGS` or :data:`NORWOOD`.
    prefix : str, optional
        Label key prefix for scales: ``"norwood"``, ``"ludwig"``, ``"sinclair"``, ``"savin"``.

    Returns
    -------
    list of tuple
    """
    key = (lambda c: f"{prefix}:{c}") if prefix else str
    return [(code, LABELS[key(code)]) for code in codes]


# --- BASP (Lee WS et al., J Am Acad Dermatol 2007;57:37-46) ----------------------------
# Basic type: L (no anterior recession), M0-M3, C0-C3, U1-U3 (horseshoe).
# Specific types: F1-F3 (frontal thinning), V1-V3 (vertex thinning); each at most once.
BASP_RE = re.compile(
    r"^(?P<basic>L|M[0-3]|C[0-3]|U[1-3])"
    r"(?:(?P<f>F[1-3])?(?P<v>V[1-3])?|(?P<v2>V[1-3])(?P<f2>F[1-3]))$"
)
BASP_NO_LOSS_TOKENS = frozenset({"L", "M0", "C0"})
"""BASP tokens that by themselves show no pattern loss."""
BASP_ADVANCED_TOKENS = frozenset({"U1", "U2", "U3", "F3"})
"""BASP tokens of advanced loss (roughly Norwood VI-VII / Ludwig III)."""


@dataclass(frozen=True, slots=True)
class Basp:
    """A parsed BASP classification.

    Attributes
    ----------
    code : str
        Canonical code: basic type, then F, then V, e.g. ``"M2F1V2"``.
    basic : str
        ``"L"``, ``"M"``, ``"C"`` or ``"U"``.
    basic_grade : int or None
        0-3 (M, C), 1-3 (U), None for L.
    frontal : int or None
        F grade 1-3, if present.
    vertex : int or None
        V grade 1-3, if present.
    """

    code: str
    basic: str
    basic_grade: int | None
    frontal: int | None
    vertex: int | None

    @property
    def tokens(self) -> frozenset[str]:
        """The code's tokens, e.g. ``{"M2", "V1"}``."""
        out = {self.basic + ("" if self.basic_grade is None else str(self.basic_grade))}
        if self.frontal is not None:
            out.add(f"F{self.frontal}")
        if self.vertex is not None:
            out.add(f"V{self.vertex}")
        return frozenset(out)


def parse_basp(text: str) -> Basp:
    """Parse and validate a BASP code such as ``"M2V1"`` or ``"c1 f2"``.

    Case and spaces are ignored; F and V may come in either order.

    Parameters
    ----------
    text : str

    Returns
    -------
    Basp

    Raises
    ------
    ValueError
        If ``text`` is not a BASP code.
    """
    if not isinstance(text, str):
        raise ValueError(f"basp: expected a BASP code string, got {text!r}")
    compact = re.sub(r"\s+", "", text).upper()
    match = BASP_RE.match(compact)
    if match is None:
        raise ValueError(
            f"basp: {text!r} is not a BASP code (basic L, M0-M3, C0-C3 or U1-U3, "
            "optionally followed by F1-F3 and/or V1-V3, e.g. 'M2V1')"
        )
    basic = match["basic"]
    f = match["f"] or match["f2"]
    v = match["v"] or match["v2"]
    return Basp(
        code=basic + (f or "") + (v or ""),
        basic=basic[0],
        basic_grade=int(basic[1]) if len(basic) > 1 else None,
        frontal=int(f[1]) if f else None,
        vertex=int(v[1]) if v else None,
    )
