"""Why a spreadsheet import refused: the ``code`` of every problem it reports."""

from __future__ import annotations

from enum import StrEnum


class TableErrorCode(StrEnum):
    UNREADABLE = "unreadable"
    UNKNOWN_FORMAT = "unknown_format"
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    MISSING_COLUMN = "missing_column"
    BAD_MAPPING = "bad_mapping"
    BAD_VALUE = "bad_value"
    UNKNOWN_PATIENT = "unknown_patient"
    REFUSED = "refused"
