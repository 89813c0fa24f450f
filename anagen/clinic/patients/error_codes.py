"""Why a patients service refused: the ``code`` of every ValidationError it raises."""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import ValidationError


class PatientErrorCode(StrEnum):
    DATE_OF_BIRTH = "date_of_birth"
    POSSIBLE_DUPLICATE = "possible_duplicate"


def refusal(message: str, code: PatientErrorCode, field: str | None = None) -> ValidationError:
    """A refusal carrying ``code``; keyed by ``field`` (shown beside it on the form) if given."""
    error = ValidationError(message, code=code)
    return ValidationError({field: error}) if field else error
