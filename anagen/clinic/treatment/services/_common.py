"""Shared by the treatment services: status shorthand, clock tolerance, limits, refusals."""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from django.core.exceptions import ValidationError

from ..error_codes import TreatmentErrorCode
from ..models import (
    CellProduct,
)

S = CellProduct.Status
T = TypeVar("T")
#: Clock tolerance for "not in the future" checks (device clocks drift a little).
CLOCK_SKEW = timedelta(minutes=5)
#: A thawed product is used within this many hours at most (validated thaw window).
MAX_THAW_WINDOW_HOURS = 24
#: Aliquots drawn in one step (each gets a label and a custody trail).
MAX_ALIQUOTS = 20


class Keep:
    """Type of ``KEEP``: "leave the recorded value as it is" (None would mean "clear it")."""


KEEP = Keep()


#: Shorthand for the services' refusals.
Code = TreatmentErrorCode


def _gate(message: str, code: TreatmentErrorCode, field: str | None = None) -> ValidationError:
    """A refusal carrying ``code``; keyed by ``field`` (shown beside it on the form) if given."""
    error = ValidationError(message, code=code)
    return ValidationError({field: error}) if field else error


def _given(value: T | None, default: T) -> T:
    """``value`` unless it was left out (None or an empty text): then the protocol's ``default``."""
    return default if value is None or value == "" else value
