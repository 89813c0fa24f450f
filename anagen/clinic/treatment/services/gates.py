"""The treatment gates every step asks: eligibility and consent in force."""

from __future__ import annotations

from anagen.clinic.assessment.selectors import current_decision
from anagen.clinic.patients.models import Patient

from ..models import (
    Consent,
    TreatmentPlan,
)
from ._common import (
    GateCode,
    _gate,
)


def valid_consent_for(plan: TreatmentPlan) -> Consent | None:
    """The consent in force for ``plan``: its latest signature, unless withdrawn.

    A withdrawal ends the patient's consent to the plan whatever was signed before it; only a
    signature after the withdrawal restores it.
    """
    latest = plan.consents.order_by("-signed_at", "-pk").first()
    return latest if latest is not None and latest.withdrawn_at is None else None


def eligibility_refusal(patient: Patient) -> str | None:
    """Why the patient may not be treated now (None: their current decision is *candidate*).

    A physician's override with a written reason counts (``final_outcome``); the engine's own
    outcome stays on record beside it.
    """
    decision = current_decision(patient=patient)
    if decision is None:
        return "The patient has no eligibility decision yet: a physician must assess them first."
    if decision.final_outcome != "candidate":
        return (
            f"The current eligibility decision is \u201c{decision.final_outcome_label}\u201d: "
            "treatment needs \u201cCandidate\u201d, or a physician's override with a reason."
        )
    return None


def require_eligible(patient: Patient) -> None:
    """Refuse unless the patient's current eligibility decision is *candidate*."""
    refusal = eligibility_refusal(patient)
    if refusal:  # guard: eligibility
        raise _gate(refusal, GateCode.NOT_ELIGIBLE)


NO_CONSENT_MESSAGE = (
    "No valid consent for this plan (never signed, or withdrawn): nothing can be done until "
    "the patient signs again."
)


def require_valid_consent(plan: TreatmentPlan) -> Consent:
    """The plan's signed, unwithdrawn consent, or a refusal."""
    consent = valid_consent_for(plan)
    if consent is None:
        raise _gate(NO_CONSENT_MESSAGE, GateCode.NO_CONSENT)  # guard: consent
    return consent


def treatment_refusal(plan: TreatmentPlan) -> str | None:
    """Why nothing may be given under ``plan`` now (eligibility, then consent); None if it may."""
    if refusal := eligibility_refusal(plan.patient):
        return refusal
    return None if valid_consent_for(plan) else NO_CONSENT_MESSAGE
