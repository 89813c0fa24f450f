"""Shared by the treatment services: status shorthand, clock tolerance, limits, error codes."""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from django.core.exceptions import ValidationError

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


class GateCode:
    """Error codes of the treatment gates (``ValidationError.code``)."""

    NOT_ELIGIBLE = "not_eligible"
    NO_CONSENT = "no_consent"
    OVER_VOLUME = "over_volume"
    OVER_CELLS = "over_cells"
    EXPIRED = "expired"
    FOUR_EYES = "four_eyes"
    TIME_ORDER = "time_order"


def _gate(message: str, code: str, field: str | None = None) -> ValidationError:
    error = ValidationError(message, code=code)
    return ValidationError({field: error}) if field else error


def _given(value: T | None, default: T) -> T:
    """``value`` unless it was left out (None or an empty text): then the protocol's ``default``."""
    return default if value is None or value == "" else value
