"""Why an assessment service refused: the ``code`` of every ValidationError it raises."""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import ValidationError


class AssessmentErrorCode(StrEnum):
    TIME_ORDER = "time_order"
    AGE_MISMATCH = "age_mismatch"
    INVALID_LAB = "invalid_lab"
    DATE_RANGE = "date_range"
    INVALID_BASP = "invalid_basp"
    UNKNOWN_CODE = "unknown_code"
    UNKNOWN_OUTCOME = "unknown_outcome"
    SAME_OUTCOME = "same_outcome"
    REASON_REQUIRED = "reason_required"


def refusal(message: str, code: AssessmentErrorCode, field: str | None = None) -> ValidationError:
    """A refusal carrying ``code``; keyed by ``field`` (shown beside it on the form) if given."""
    error = ValidationError(message, code=code)
    return ValidationError({field: error}) if field else error
