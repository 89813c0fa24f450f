"""Why a FHIR import refused: the ``code`` of every problem it reports."""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import ValidationError


class FhirImportErrorCode(StrEnum):
    MALFORMED_JSON = "malformed_json"
    NOT_A_BUNDLE = "not_a_bundle"
    INVALID_RESOURCE = "invalid_resource"
    MISSING_ELEMENT = "missing_element"
    UNKNOWN_SUBJECT = "unknown_subject"
    WRONG_UNIT = "wrong_unit"
    UNKNOWN_CODE = "unknown_code"
    REFUSED = "refused"  # a clinic service refused the record (its own code in ``detail``)
    TOO_LARGE = "too_large"


def refusal(message: str, code: FhirImportErrorCode, field: str | None = None) -> ValidationError:
    """A refusal carrying ``code``; keyed by ``field`` if given."""
    error = ValidationError(message, code=code)
    return ValidationError({field: error}) if field else error
