"""CSV download of a list page: the one helper every list's "Download CSV" goes through.

A list view passes the same rows it shows (already scoped by its selector) with column headings
in the clinic's words; cells a spreadsheet would run as formulas are neutralised (free text
reaches lists from the public request form); each download is logged as an event (who, which
list, how many rows), never a value.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone

logger = logging.getLogger("anagen.export")

#: "=", "@", a tab or carriage return first, or "+"/"-" followed by anything but a plain number
#: (a phone number such as "+44 20 7946 0000" stays as is). The same rule as the audit CSV.
_FORMULA = re.compile(r"^(?:[=@\t\r]|[+-](?![\d .,()/]*$))")


def cell(value: object) -> str:
    """One value as a CSV cell: dates as ISO dates, local times, formulas neutralised."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        text = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    return "'" + text if _FORMULA.match(text) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv"


def csv_response(
    request: HttpRequest,
    *,
    name: str,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
) -> StreamingHttpResponse:
    """The rows as a CSV download named ``<name>-<date>.csv``, logged as an event."""
    counted = {"rows": 0}

    def lines() -> Iterator[str]:
        writer = csv.writer(_Echo())
        yield "\ufeff" + writer.writerow(header)  # BOM: spreadsheets read it as UTF-8
        for row in rows:
            counted["rows"] += 1
            yield writer.writerow([cell(v) for v in row])
        logger.info(
            "list export",
            extra={"user_id": request.user.pk, "list": name, "rows": counted["rows"]},
        )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    filename = f"{name}-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
