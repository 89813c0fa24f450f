"""Dates and times as the clinic reads them (the site's locale format), for text built in
Python: record names, messages. Templates use Django's ``date`` filter."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import formats, timezone


def local_day(value: date | datetime) -> str:
    """ "5 Dec 2026": a day in the active locale's short form (local time for a moment)."""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return formats.date_format(value, "j M Y")


def local_time(value: datetime) -> str:
    """ "5 Dec 2026 14:30": a moment in local time."""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "j M Y H:i")
