"""Writes of assessments and eligibility decisions.

The decision itself comes from the pure, versioned engine in ``anagen.eligibility``; this module
maps the stored assessment to the engine's facts, stores the decision with every reason, and
records a physician's override (with its written reason) without erasing the engine's answer.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from anagen import eligibility
from anagen.clinic.accounts.access import require_site_access
from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import Perm, require
from anagen.clinic.common import clock
from anagen.clinic.patients.models import Patient
from anagen.eligibility.labs import LabValueError, validate_lab
from anagen.eligibility.vocab import parse_basp

from .error_codes import AssessmentErrorCode as Code
from .error_codes import refusal
from .models import Assessment, EligibilityDecision

OUTCOME_CODES = {code for code, _ in EligibilityDecision.OUTCOMES}


def _lab_problem(error: LabValueError) -> str:
    """What is wrong with a laboratory value, in the words of the form it was typed into."""
    test = error.test
    if error.problem == "negative":
        return f"{test.label} cannot be negative."
    if error.problem == "implausible":
        return (
            f"{error.value:g} {test.unit} is outside what is physiologically possible for "
            f"{test.label} ({test.plausible_min:g}–{test.plausible_max:g} {test.unit}): check the "
            "value and its unit."
        )
    return f"Enter {test.label} as a number in {test.unit}."


def _require_physician(actor: User, patient: Patient, perm: Perm) -> None:
    require(actor, perm)
    require_site_access(user=actor, site_id=patient.site_id)


def facts_from_assessment(assessment: Assessment) -> eligibility.AssessmentFacts:
    patient = assessment.patient
    pull = {"positive": True, "negative": False}.get(assessment.pull_test)
    return eligibility.AssessmentFacts(
        sex=patient.sex,
        age_years=patient.age_on(timezone.localtime(assessment.assessed_at).date()),
        loss_duration_months=assessment.loss_duration_months,
        pattern=assessment.pattern,
        norwood=assessment.norwood or None,
        ludwig=assessment.ludwig or None,
        sinclair=assessment.sinclair,
        savin=assessment.savin or None,
        basp=assessment.basp or None,
        pull_test_positive=pull,
        triggers_last_6_months=frozenset(assessment.triggers),
        drugs=frozenset(assessment.drugs),
        prior_treatments=frozenset(assessment.prior_treatments),
        labs=assessment.labs,
        contraindications=frozenset(assessment.contraindications),
        trichoscopy_findings=frozenset(assessment.trichoscopy_findings),
    )


def _validate(assessment: Assessment) -> None:
    patient = assessment.patient
    errors: dict[str, list[ValidationError]] = {}
    when = timezone.localtime(assessment.assessed_at).date()
    if assessment.assessed_at > clock.now() + timedelta(minutes=5):
        errors.setdefault("assessed_at", []).append(
            ValidationError("The assessment cannot be in the future.", code=Code.TIME_ORDER)
        )
    age = patient.age_on(when)
    if assessment.onset_age_years is not None and assessment.onset_age_years > age:
        errors.setdefault("onset_age_years", []).append(
            ValidationError(
                f"Onset at {assessment.onset_age_years} is after the patient's age ({age}).",
                code=Code.AGE_MISMATCH,
            )
        )
    if (
        assessment.loss_duration_months is not None
        and assessment.loss_duration_months > age * 12 + 11
    ):
        errors.setdefault("loss_duration_months", []).append(
            ValidationError(
                "The loss cannot have lasted longer than the patient has lived.",
                code=Code.AGE_MISMATCH,
            )
        )
    for code, value in assessment.labs.items():
        try:
            validate_lab(code, value)
        except LabValueError as exc:
            errors.setdefault(code, []).append(
                ValidationError(_lab_problem(exc), code=Code.INVALID_LAB)
            )
        except ValueError:  # not a test this clinic records
            errors.setdefault(code, []).append(
                ValidationError("This laboratory test is not recorded here.", code=Code.INVALID_LAB)
            )
    for code, span in assessment.prior_treatments.items():
        started = date.fromisoformat(span["started"]) if span.get("started") else None
        stopped = date.fromisoformat(span["stopped"]) if span.get("stopped") else None
        if stopped and not started:
            errors.setdefault(f"{code}_started", []).append(
                ValidationError("Give the start date as well.", code=Code.DATE_RANGE)
            )
        for label, day in (("started", started), ("stopped", stopped)):
            if day and (day > when or day < patient.date_of_birth):
                errors.setdefault(f"{code}_{label}", []).append(
                    ValidationError(
                        "The date must lie between the patient's birth and the assessment.",
                        code=Code.DATE_RANGE,
                    )
                )
        if started and stopped and stopped < started:
            errors.setdefault(f"{code}_stopped", []).append(
                ValidationError("Stopped before it started.", code=Code.DATE_RANGE)
            )
    if assessment.basp:
        try:
            parse_basp(assessment.basp)
        except ValueError:
            errors.setdefault("basp", []).append(
                ValidationError(
                    f"“{assessment.basp}” is not a BASP type. Give the basic type (L, M0–M3, "
                    "C0–C3 or U1–U3), then F1–F3 and/or V1–V3 if present, e.g. M2V1.",
                    code=Code.INVALID_BASP,
                )
            )
    if errors:
        raise ValidationError(errors)
    try:
        facts_from_assessment(assessment)
    except ValueError as exc:  # unknown codes in the JSON lists
        raise refusal(str(exc), Code.UNKNOWN_CODE) from None


@transaction.atomic
def assessment_record(
    *,
    actor: User,
    patient: Patient,
    pattern: str,
    assessed_at: datetime | None = None,
    onset_age_years: int | None = None,
    loss_duration_months: int | None = None,
    family_history: str = Assessment.FamilyHistory.UNKNOWN,
    triggers: list[str] | None = None,
    drugs: list[str] | None = None,
    prior_treatments: dict[str, dict[str, str | None]] | None = None,
    ferritin: Decimal | float | None = None,
    tsh: Decimal | float | None = None,
    vitamin_d: Decimal | float | None = None,
    haemoglobin: Decimal | float | None = None,
    norwood: str = "",
    ludwig: str = "",
    sinclair: int | None = None,
    savin: str = "",
    basp: str = "",
    pull_test: str = Assessment.PullTest.NOT_DONE,
    trichoscopy_findings: list[str] | None = None,
    trichoscopy_notes: str = "",
    contraindications: list[str] | None = None,
    notes: str = "",
) -> Assessment:
    """Store an assessment and the engine's eligibility decision for it.

    ``prior_treatments`` maps a treatment code to ``{"started": iso date, "stopped": iso date or
    None}``; ``assessed_at`` defaults to now.
    """
    _require_physician(actor, patient, Perm.ASSESSMENT_RECORD)
    assessed_at = assessed_at or clock.now()
    if timezone.is_naive(assessed_at):
        assessed_at = timezone.make_aware(assessed_at)
    assessment = Assessment(
        patient=patient,
        assessed_by=actor,
        assessed_at=assessed_at,
        pattern=pattern,
        onset_age_years=onset_age_years,
        loss_duration_months=loss_duration_months,
        family_history=family_history,
        triggers=list(triggers or []),
        drugs=list(drugs or []),
        prior_treatments=dict(prior_treatments or {}),
        ferritin=ferritin,
        tsh=tsh,
        vitamin_d=vitamin_d,
        haemoglobin=haemoglobin,
        norwood=norwood or "",
        ludwig=ludwig or "",
        sinclair=sinclair,
        savin=savin or "",
        basp=basp or "",
        pull_test=pull_test,
        trichoscopy_findings=list(trichoscopy_findings or []),
        trichoscopy_notes=trichoscopy_notes,
        contraindications=list(contraindications or []),
        notes=notes,
    )
    assessment.full_clean()
    _validate(assessment)
    assessment.save()
    decision = eligibility.evaluate(facts_from_assessment(assessment))
    EligibilityDecision.objects.create(
        assessment=assessment,
        outcome=decision.outcome,
        reasons=decision.to_dict()["reasons"],
        ruleset_version=decision.ruleset_version,
    )
    return assessment


def assessment_preview(
    *, actor: User, patient: Patient, fields: dict[str, Any]
) -> EligibilityDecision:
    """The decision the engine would give these findings (``fields``: the keywords of
    ``assessment_record``), with nothing stored: the same checks and rules, inside a
    savepoint that is rolled back."""
    _require_physician(actor, patient, Perm.ASSESSMENT_RECORD)
    with transaction.atomic():
        assessment = assessment_record(actor=actor, patient=patient, **fields)
        decision = assessment.decision
        transaction.set_rollback(True)
    return decision


@transaction.atomic
def decision_override(
    *, actor: User, decision: EligibilityDecision, outcome: str, reason: str
) -> EligibilityDecision:
    """A physician overrides the engine. The engine's outcome and reasons stay on record."""
    _require_physician(actor, decision.assessment.patient, Perm.ELIGIBILITY_OVERRIDE)
    reason = (reason or "").strip()
    if outcome not in OUTCOME_CODES:
        raise refusal(f"Unknown outcome {outcome!r}.", Code.UNKNOWN_OUTCOME, "outcome")
    if outcome == decision.outcome:
        raise refusal("That is already the engine's decision.", Code.SAME_OUTCOME, "outcome")
    if len(reason) < 15:
        raise refusal(
            "Write the clinical reason for the override (15+ characters).",
            Code.REASON_REQUIRED,
            "reason",
        )
    decision.override_outcome = outcome
    decision.override_reason = reason
    decision.overridden_by = actor
    decision.overridden_at = clock.now()
    # simple_history reads this ad-hoc attribute on save; the model class does not declare it
    decision._change_reason = f"override: {reason[:80]}"  # type: ignore[attr-defined]
    decision.save()
    return decision
