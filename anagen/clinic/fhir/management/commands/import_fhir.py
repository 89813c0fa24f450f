"""``manage.py import_fhir FILE --site CODE --as EMAIL [--apply]``: check (default) or import a
FHIR Bundle of patients, conditions and observations. Prints the report as JSON; exits non-zero
when the Bundle has problems (nothing is imported then)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from anagen.clinic.accounts.models import Site, User
from anagen.clinic.fhir.services import ImportRefused, fhir_import_apply, fhir_import_plan


class Command(BaseCommand):
    help = "Check (dry run) or import a FHIR R5 Bundle of Patient, Condition, Observation."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="the Bundle (JSON); - reads stdin")
        parser.add_argument("--site", required=True, help="code of the site to register at")
        parser.add_argument("--as", dest="actor", required=True, help="e-mail of the physician")
        parser.add_argument("--apply", action="store_true", help="import (default: dry run)")

    def handle(self, *args: Any, **options: Any) -> None:
        site = Site.objects.filter(code=options["site"]).first()
        if site is None:
            raise CommandError("No site has that code.")
        actor = User.objects.filter(email__iexact=options["actor"], is_active=True).first()
        if actor is None:
            raise CommandError("No active member of staff has that e-mail address.")
        path = options["file"]
        try:
            raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read the file: {exc.strerror}.") from None
        try:
            if options["apply"]:
                report = fhir_import_apply(actor=actor, site=site, raw=raw)
            else:
                report = fhir_import_plan(actor=actor, site=site, raw=raw)
        except ImportRefused as refused:
            report = refused.report
        self.stdout.write(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        if not report.ok:
            raise CommandError(f"Not imported: {len(report.problems)} problem(s), listed above.")
