"""The treatment gates every step enforces: eligibility and consent in force.

What they read (the consent in force, why a patient may not be treated) is in ``selectors``,
which the pages ask too; here the answer becomes a refusal.
"""

from __future__ import annotations

from anagen.clinic.patients.models import Patient

from ..models import (
    Consent,
    TreatmentPlan,
)
from ..selectors import NO_CONSENT_MESSAGE, eligibility_refusal, valid_consent_for
from ._common import (
    Code,
    _gate,
)


def require_eligible(patient: Patient) -> None:
    """Refuse unless the patient's current eligibility decision is *candidate*."""
    refusal = eligibility_refusal(patient)
    if refusal:  # guard: eligibility
        raise _gate(refusal, Code.NOT_ELIGIBLE)


def require_valid_consent(plan: TreatmentPlan) -> Consent:
    """The plan's signed, unwithdrawn consent, or a refusal."""
    consent = valid_consent_for(plan)
    if consent is None:
        raise _gate(NO_CONSENT_MESSAGE, Code.NO_CONSENT)  # guard: consent
    return consent
