"""Writes of the treatment pathway, one module per step. Every rule that keeps the cells safe
lives here.

* no plan, harvest or administration without a current eligibility decision of *candidate*
  (the engine's, or a physician's override with a written reason);
* no harvest and no administration without a valid, unwithdrawn consent for that plan;
* a harvest issues the donation identifier (ISO 7064 MOD 37-2 checked) and its first product;
* products move only along ``TRANSITIONS``; every move leaves a custody event and a history row;
* release needs a lab technician's password-confirmed signature, every release gate, and a
  second person: the releaser did not record the results (``ANAGEN_RELEASE_FOUR_EYES``);
* administration needs the product identifier AND the patient's MRN, the product must be this
  patient's own, released (or thawed after release), unexpired, never administered, the map
  must fit in the product (volume and viable cells), and a second member of staff must verify
  with their password.

Every refusal is a ``ValidationError`` with a ``code`` (``GateCode``) that pages, the API and the
tests read.

Modules: ``gates`` (eligibility, consent in force), ``plans``, ``consent``, ``harvest``,
``lifecycle`` (the product state machine), ``products`` (the lab), ``sessions``, ``schedule``,
``adverse_events``. Callers import from this package.
"""

from __future__ import annotations

from ._common import (
    CLOCK_SKEW,
    KEEP,
    MAX_ALIQUOTS,
    MAX_THAW_WINDOW_HOURS,
    GateCode,
    Keep,
)
from .adverse_events import adverse_event_report
from .consent import consent_sign, consent_withdraw
from .gates import (
    NO_CONSENT_MESSAGE,
    eligibility_refusal,
    require_eligible,
    require_valid_consent,
    treatment_refusal,
    valid_consent_for,
)
from .harvest import harvest_record
from .lifecycle import ADMINISTRABLE, SPLITTABLE, TRANSITIONS
from .plans import plan_create
from .products import (
    four_eyes_refusal,
    product_discard,
    product_handover,
    product_label_printed,
    product_record_results,
    product_release,
    product_split,
    product_store,
    product_thaw,
    products_expire_due,
    release_gates,
    results_recorded_by,
)
from .schedule import visits_schedule
from .sessions import (
    IdentityCheckFailed,
    cells_per_point_warning,
    dose_warning,
    identity_check,
    session_administer,
)

__all__ = [
    "ADMINISTRABLE",
    "CLOCK_SKEW",
    "KEEP",
    "MAX_ALIQUOTS",
    "MAX_THAW_WINDOW_HOURS",
    "NO_CONSENT_MESSAGE",
    "SPLITTABLE",
    "TRANSITIONS",
    "GateCode",
    "IdentityCheckFailed",
    "Keep",
    "adverse_event_report",
    "cells_per_point_warning",
    "consent_sign",
    "consent_withdraw",
    "dose_warning",
    "eligibility_refusal",
    "four_eyes_refusal",
    "harvest_record",
    "identity_check",
    "plan_create",
    "product_discard",
    "product_handover",
    "product_label_printed",
    "product_record_results",
    "product_release",
    "product_split",
    "product_store",
    "product_thaw",
    "products_expire_due",
    "release_gates",
    "require_eligible",
    "require_valid_consent",
    "results_recorded_by",
    "session_administer",
    "treatment_refusal",
    "valid_consent_for",
    "visits_schedule",
]
