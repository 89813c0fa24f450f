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

Every refusal is a ``ValidationError`` with a ``code`` (``error_codes.TreatmentErrorCode``) that
pages, the API and the tests read.

Modules: ``gates`` (eligibility, consent in force), ``plans``, ``consent``, ``harvest``,
``lifecycle`` (the product state machine and its result fields), ``products`` (the lab),
``sessions``, ``schedule``, ``adverse_events``. Callers import from this package. What the
services only read (the consent in force, the release criteria, warnings) is in
``treatment.selectors``; every custody event is written through ``treatment.events``.
"""

from __future__ import annotations

from ._common import (
    CLOCK_SKEW,
    KEEP,
    MAX_ALIQUOTS,
    MAX_THAW_WINDOW_HOURS,
    Keep,
)
from .adverse_events import adverse_event_report
from .consent import consent_sign, consent_withdraw
from .gates import require_eligible, require_valid_consent
from .harvest import harvest_record
from .lifecycle import ADMINISTRABLE, SPLITTABLE, TRANSITIONS
from .plans import plan_create
from .products import (
    product_discard,
    product_handover,
    product_label_printed,
    product_record_results,
    product_release,
    product_split,
    product_store,
    product_thaw,
    products_expire_due,
    products_expire_due_scheduled,
)
from .schedule import scheduled_visit_book, visits_schedule
from .sessions import IdentityCheckFailed, identity_check, session_administer

__all__ = [
    "ADMINISTRABLE",
    "CLOCK_SKEW",
    "KEEP",
    "MAX_ALIQUOTS",
    "MAX_THAW_WINDOW_HOURS",
    "SPLITTABLE",
    "TRANSITIONS",
    "IdentityCheckFailed",
    "Keep",
    "adverse_event_report",
    "consent_sign",
    "consent_withdraw",
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
    "products_expire_due_scheduled",
    "require_eligible",
    "require_valid_consent",
    "scheduled_visit_book",
    "session_administer",
    "visits_schedule",
]
