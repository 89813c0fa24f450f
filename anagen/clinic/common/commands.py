"""Shared scaffolding of management commands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime


class SweepCommand(BaseCommand):
    """A periodic sweep the Celery beat also runs, callable by hand with ``--now`` for drills.

    Subclasses name what they sweep in ``what`` and implement :meth:`sweep`, returning the line
    to print.
    """

    what = "sweep"
    sweep: Callable[..., str]  # (*, now: datetime | None) -> the line to print

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--now",
            help=f"ISO date-time to {self.what} as of (default: now); for drills and tests",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now: datetime | None = None
        if options["now"]:
            now = parse_datetime(options["now"])
            if now is None or now.tzinfo is None:
                raise CommandError("--now must be an ISO date-time with a time zone offset.")
        self.stdout.write(self.sweep(now=now))
