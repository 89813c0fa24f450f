"""Why a privacy service refused: the ``code`` of every ValidationError it raises."""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import ValidationError


class PrivacyErrorCode(StrEnum):
    REASON_REQUIRED = "reason_required"
    CONFIRMATION_MISMATCH = "confirmation_mismatch"  # the typed MRN is not this patient's
    ALREADY_ERASED = "already_erased"


def refusal(message: str, code: PrivacyErrorCode, field: str | None = None) -> ValidationError:
    """A refusal carrying ``code``; keyed by ``field`` (shown beside it on the form) if given."""
    error = ValidationError(message, code=code)
    return ValidationError({field: error}) if field else error
