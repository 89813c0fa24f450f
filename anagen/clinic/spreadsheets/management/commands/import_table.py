"""``manage.py import_table FILE --kind patients|measurements --site CODE --as EMAIL
[--map "Column=field" ...] [--apply]``: check (default) or import a CSV/XLSX table. Prints the
report as JSON; exits non-zero when a row is refused (nothing is imported then)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from anagen.clinic.accounts.models import Site, User
from anagen.clinic.spreadsheets.services import (
    KINDS,
    TableRefused,
    parse_mapping,
    table_import_apply,
    table_import_plan,
)


class Command(BaseCommand):
    help = "Check (dry run) or import a legacy patient list or measurement table (CSV/XLSX)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")
        parser.add_argument("--kind", required=True, choices=sorted(KINDS))
        parser.add_argument("--site", required=True, help="code of the site to register at")
        parser.add_argument("--as", dest="actor", required=True, help="e-mail of the physician")
        parser.add_argument("--map", action="append", default=[], help="Column in the file=field")
        parser.add_argument("--apply", action="store_true", help="import (default: dry run)")

    def handle(self, *args: Any, **options: Any) -> None:
        site = Site.objects.filter(code=options["site"]).first()
        if site is None:
            raise CommandError("No site has that code.")
        actor = User.objects.filter(email__iexact=options["actor"], is_active=True).first()
        if actor is None:
            raise CommandError("No active member of staff has that e-mail address.")
        try:
            mapping = parse_mapping("\n".join(options["map"]))
            data = Path(options["file"]).read_bytes()
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"Cannot read the file: {exc.strerror}.") from None
        call = table_import_apply if options["apply"] else table_import_plan
        try:
            report = call(
                actor=actor,
                site=site,
                kind=options["kind"],
                data=data,
                filename=options["file"],
                mapping=mapping,
            )
        except TableRefused as refused:
            report = refused.report
        self.stdout.write(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        if not report.ok:
            raise CommandError(f"Not imported: {len(report.problems)} problem(s), listed above.")
