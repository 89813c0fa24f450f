"""``manage.py export_fhir MRN``: the patient's ``$everything`` Bundle (FHIR R5 JSON) on stdout."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from anagen.clinic.fhir import bundles, resources, selectors


class Command(BaseCommand):
    help = "Write a patient's $everything Bundle (FHIR R5 JSON) to stdout."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("mrn", help="the patient's MRN")
        parser.add_argument(
            "--base", default="", help="base URL for the entries' fullUrl (default: setting)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        reader = resources.command_line_reader()
        patient = selectors.patients(user=reader).filter(mrn=options["mrn"].strip()).first()
        if patient is None:
            # The MRN is what the user typed; it is not repeated into logs or stderr.
            raise CommandError("No patient has that MRN.")
        found = resources.everything(user=reader, patient=patient, full_access=True)
        base = options["base"] or bundles.export_base()
        self.stdout.write(json.dumps(bundles.everything_bundle(base, found), ensure_ascii=False))
