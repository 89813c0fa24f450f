"""Writes of assessments and eligibility decisions.

The decision itself comes from the pure, versioned engine in ``anagen.eligibility``; this module
maps the stored assessment to the engine's facts, stores the decision with every reason, and
records a physician's override (with its written reason) without erasing the engine's answer.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from anagen import eligibility
from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import Perm, require, require_site_access
from anagen.clinic.patients.models import Patient
from anagen.eligibility.labs import validate_lab
from anagen.eligibility.vocab import parse_basp

from .models import Assessment, EligibilityDecision

OUTCOME_CODES = {code for code, _ in EligibilityDecision.OUTCOMES}


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
    errors: dict[str, list[str]] = {}
    when = timezone.localtime(assessment.assessed_at).date()
    if assessment.assessed_at > timezone.now() + timedelta(minutes=5):
        errors.setdefault("assessed_at", []).append("The assessment cannot be in the future.")
    age = patient.age_on(when)
    if assessment.onset_age_years is not None and assessment.onset_age_years > age:
        errors.setdefault("onset_age_years", []).append(
            f"Onset at {assessment.onset_age_years} is after the patient's age ({age})."
        )
    if (
        assessment.loss_duration_months is not None
        and assessment.loss_duration_months > age * 12 + 11
    ):
        errors.setdefault("loss_duration_months", []).append(
            "The loss cannot have lasted longer than the patient has lived."
        )
    for code, value in assessment.labs.items():
        try:
            validate_lab(code, value)
        except ValueError as exc:
            errors.setdefault(code, []).append(str(exc))
    for code, span in assessment.prior_treatments.items():
        started = date.fromisoformat(span["started"]) if span.get("started") else None
        stopped = date.fromisoformat(span["stopped"]) if span.get("stopped") else None
        for label, day in (("started", started), ("stopped", stopped)):
            if day and (day > when or day < patient.date_of_birth):
                errors.setdefault(f"{code}_{label}", []).append(
                    "The date must lie between the patient's birth and the assessment."
                )
        if started and stopped and stopped < started:
            errors.setdefault(f"{code}_stopped", []).append("Stopped before it started.")
    if assessment.basp:
        try:
            parse_basp(assessment.basp)
        except ValueError as exc:
            errors.setdefault("basp", []).append(str(exc))
    if errors:
        raise ValidationError(errors)
    try:
        facts_from_assessment(assessment)
    except ValueError as exc:  # unknown codes in the JSON lists
        raise ValidationError(str(exc)) from None


@transaction.atomic
def assessment_record(*, actor: User, patient: Patient, **fields) -> Assessment:
    """Store an assessment and the engine's eligibility decision for it."""
    _require_physician(actor, patient, Perm.ASSESSMENT_RECORD)
    fields.setdefault("assessed_at", timezone.now())
    if isinstance(fields["assessed_at"], datetime) and timezone.is_naive(fields["assessed_at"]):
        fields["assessed_at"] = timezone.make_aware(fields["assessed_at"])
    assessment = Assessment(patient=patient, assessed_by=actor, **fields)
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


@transaction.atomic
def decision_override(
    *, actor: User, decision: EligibilityDecision, outcome: str, reason: str
) -> EligibilityDecision:
    """A physician overrides the engine. The engine's outcome and reasons stay on record."""
    _require_physician(actor, decision.assessment.patient, Perm.ELIGIBILITY_OVERRIDE)
    reason = (reason or "").strip()
    if outcome not in OUTCOME_CODES:
        raise ValidationError({"outcome": f"Unknown outcome {outcome!r}."})
    if outcome == decision.outcome:
        raise ValidationError({"outcome": "That is already the engine's decision."})
    if len(reason) < 15:
        raise ValidationError(
            {"reason": "Write the clinical reason for the override (15+ characters)."}
        )
    decision.override_outcome = outcome
    decision.override_reason = reason
    decision.overridden_by = actor
    decision.overridden_at = timezone.now()
    decision._change_reason = f"override: {reason[:80]}"
    decision.save()
    return decision
