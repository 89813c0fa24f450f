"""Why a treatment service refused: the ``code`` of every ValidationError it raises.

Pages show the message; the tests, the stateful pathway model and (later) the API read the code,
so a reworded message never changes what a refusal *is*. Field-keyed refusals carry the code on
the field's error (``error.error_dict[field][0].code``).
"""

from __future__ import annotations

from enum import StrEnum


class TreatmentErrorCode(StrEnum):
    # --- the clinical gates (each has a ``# guard:`` marker in the services) -----------------
    NOT_ELIGIBLE = "not_eligible"
    NO_CONSENT = "no_consent"
    OVER_VOLUME = "over_volume"
    OVER_CELLS = "over_cells"
    EXPIRED = "expired"
    FOUR_EYES = "four_eyes"
    TIME_ORDER = "time_order"
    # --- identity check at administration ----------------------------------------------------
    INVALID_IDENTIFIER = "invalid_identifier"
    UNKNOWN_PRODUCT = "unknown_product"
    MRN_MISMATCH = "mrn_mismatch"
    WRONG_PATIENT = "wrong_patient"
    ALREADY_ADMINISTERED = "already_administered"
    SIGNATURE_INVALID = "signature_invalid"
    VERIFIER_IS_ADMINISTRATOR = "verifier_is_administrator"
    VERIFIER_ROLE = "verifier_role"
    VERIFIER_PASSWORD = "verifier_password"  # noqa: S105 (a code, not a password)
    # --- sessions -------------------------------------------------------------------------------
    MISSING_TOKEN = "missing_token"  # noqa: S105 (a code, not a token)
    ALREADY_RECORDED = "already_recorded"  # a replayed or double submission
    NO_ZONES = "no_zones"
    INVALID_ZONE = "invalid_zone"
    # --- the product's state machine and the laboratory ------------------------------------------
    WRONG_STATUS = "wrong_status"  # the step is not allowed from the product's status
    RESULTS_INCOMPLETE = "results_incomplete"
    VIABLE_EXCEEDS_TOTAL = "viable_exceeds_total"
    INVALID_VOLUMES = "invalid_volumes"
    TOO_MANY_ALIQUOTS = "too_many_aliquots"
    RELEASE_GATES_FAILED = "release_gates_failed"
    LOCATION_REQUIRED = "location_required"
    POSITION_OCCUPIED = "position_occupied"  # one product per freezer position (per site)
    INVALID_POSITION = "invalid_position"  # not a position on the box's grid (storage.py)
    THAW_WINDOW = "thaw_window"
    # --- plans and consent ------------------------------------------------------------------------
    PLAN_CLOSED = "plan_closed"
    STERILE_CHECKLIST = "sterile_checklist"  # an item not confirmed before the harvest
    INVALID_ZONES = "invalid_zones"
    PRICE_RANGE = "price_range"
    PRICE_CURRENCY = "price_currency"
    FOLLOW_UP_WINDOWS = "follow_up_windows"
    NOT_AGREED = "not_agreed"
    SIGNER_NAME_MISMATCH = "signer_name_mismatch"
    CONSENT_TEXT_RETIRED = "consent_text_retired"
    ALREADY_WITHDRAWN = "already_withdrawn"  # not the consent in force (a stale form)
    # --- the follow-up schedule -----------------------------------------------------------------
    VISIT_ALREADY_BOOKED = "visit_already_booked"
    VISIT_COMPLETED = "visit_completed"
    # --- shared -----------------------------------------------------------------------------------
    REASON_REQUIRED = "reason_required"
    LINK_CONFLICT = "link_conflict"  # an adverse event linked to a session AND a harvest
