"""Why an intake service refused: the ``code`` of every ValidationError it raises."""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import ValidationError


class IntakeErrorCode(StrEnum):
    NOTE_REQUIRED = "note_required"
    UNKNOWN_STATUS = "unknown_status"
    NOT_BOOKED = "not_booked"
    ALREADY_CONVERTED = "already_converted"
    CLINICIAN_ROLE = "clinician_role"
    CLINICIAN_SITE = "clinician_site"
    UNKNOWN_KIND = "unknown_kind"
    TIME_ORDER = "time_order"
    DATE_RANGE = "date_range"
    DURATION = "duration"
    CLINICIAN_BOOKED = "clinician_booked"


def refusal(message: str, code: IntakeErrorCode, field: str | None = None) -> ValidationError:
    """A refusal carrying ``code``; keyed by ``field`` (shown beside it on the form) if given."""
    error = ValidationError(message, code=code)
    return ValidationError({field: error}) if field else error
