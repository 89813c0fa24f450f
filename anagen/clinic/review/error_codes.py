"""Why a review service refused: the ``code`` of every ValidationError it raises."""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import ValidationError


class ReviewErrorCode(StrEnum):
    ALREADY_SCORED = "already_scored"
    SCORE_RANGE = "score_range"
    TREATING_PHYSICIAN = "treating_physician"


def refusal(message: str, code: ReviewErrorCode, field: str | None = None) -> ValidationError:
    """A refusal carrying ``code``; keyed by ``field`` (shown beside it on the form) if given."""
    error = ValidationError(message, code=code)
    return ValidationError({field: error}) if field else error
