"""The audit trail as CSV: an auditor's tool, logged as an event (who, which filters, how many)."""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterator

from .selectors import CSV_HEADER, AuditFilter, AuditLog, csv_rows

#: Export events: user id, scope, filters in force and row count; never a value.
logger = logging.getLogger("anagen.audit")


#: A cell a spreadsheet would run as a formula: "=", "@", a tab or carriage return first, or "+"/"-"
#: followed by anything but a plain number (a phone number such as "+44 20 7946 0000" stays as is).
_FORMULA = re.compile(r"^(?:[=@\t\r]|[+-](?![\d .,()/]*$))")


def _cell(value: str) -> str:
    """Neutralise a value a spreadsheet would evaluate (free text comes from the public form)."""
    return "'" + value if _FORMULA.match(value) else value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(log: AuditLog) -> Iterator[str]:
    """The log's entries in time order (oldest first), one line per changed field."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for row in csv_rows(log.in_time_order()):
        yield writer.writerow([_cell(value) for value in row])


def logged(*, user_id: int | None, scope: str, wanted: AuditFilter, rows: int) -> None:
    """Log an audit-trail export as an event: who, what (scope and filters), how many entries."""
    logger.info(
        "audit export",
        extra={"user_id": user_id, "scope": scope, "filters": wanted.described(), "rows": rows},
    )
