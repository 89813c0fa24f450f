"""Why an imaging service refused: the ``code`` of every ValidationError it raises."""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import ValidationError


class ImagingErrorCode(StrEnum):
    FUTURE_DATE = "future_date"
    WRONG_PATIENT = "wrong_patient"
    VIEW_TAKEN = "view_taken"
    NOT_CALIBRATED = "not_calibrated"
    IMAGE_TOO_LARGE = "image_too_large"
    WRONG_STATUS = "wrong_status"
    UNKNOWN_HAIR = "unknown_hair"
    UNCOUNTED_HAIR = "uncounted_hair"
    ADDED_HAIRS = "added_hairs"
    ADDED_HAIR_POSITION = "added_hair_position"
    ADDED_HAIR_KIND = "added_hair_kind"
    NOTE_REQUIRED = "note_required"
    # Phototrichogram pairs (a day-2/3 re-image of a day-0 image)
    REGROWTH_OTHER_PATIENT = "regrowth_other_patient"
    REGROWTH_OTHER_SITE = "regrowth_other_site"
    REGROWTH_INTERVAL = "regrowth_interval"
    REGROWTH_OF_REGROWTH = "regrowth_of_regrowth"
    REGROWTH_OTHER_DEVICE = "regrowth_other_device"
    REGROWTH_TAKEN = "regrowth_taken"


def refusal(message: str, code: ImagingErrorCode, field: str | None = None) -> ValidationError:
    """A refusal carrying ``code``; keyed by ``field`` (shown beside it on the form) if given."""
    error = ValidationError(message, code=code)
    return ValidationError({field: error}) if field else error
