"""The audit trail as CSV: an auditor's tool, logged as an event (who, which filters, how many).

The download itself (formula neutralising, streaming, headers) is the list pages' one helper,
``common.csv_export.csv_response``; this module gives it the rows and logs the export."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from django.utils import timezone

from .selectors import AuditEntry, AuditFilter

#: Export events: user id, scope, filters in force and row count; never a value.
logger = logging.getLogger("anagen.audit")


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
