"""The audit trail as CSV: an auditor's tool, logged as an event (who, which filters, how many)."""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterable, Iterator

from django.utils import timezone

from .selectors import AuditEntry, AuditFilter, AuditLog

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


CSV_HEADER = (
    "when",
    "who",
    "action",
    "record",
    "patient MRN",
    "field",
    "field name",
    "from",
    "to",
    "reason",
)


def csv_rows(entries: Iterable[AuditEntry]) -> Iterator[tuple[str, ...]]:
    """One row per changed field (one row for an entry without fields), in the entries' order."""
    for entry in entries:
        when = timezone.localtime(entry.when).isoformat(timespec="seconds")
        head = (when, entry.who, entry.action, entry.record, entry.patient)
        if not entry.changes:
            yield (*head, "", "", "", "", entry.reason)
        for change in entry.changes:
            yield (*head, change.label, change.field, change.old or "", change.new, entry.reason)
