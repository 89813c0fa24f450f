"""Export all of one patient's data (zip: data.json + files/) on the patient's request."""

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from anagen.clinic.accounts.models import User
from anagen.clinic.patients.models import Patient
from anagen.clinic.privacy.services import patient_data_export


class Command(BaseCommand):
    help = (
        "Write a zip of every record and stored file about the patient with this MRN. Runs as "
        "the named member of staff (who needs the export permission: the administrator role) "
        "and is recorded in the privacy log with the reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("mrn")
        parser.add_argument("--out", required=True, help="the zip file to write")
        parser.add_argument("--as", dest="actor", required=True, help="your e-mail (staff login)")
        parser.add_argument("--reason", required=True, help="the patient's request and its date")

    def handle(self, *args, **options):
        actor = User.objects.filter(email__iexact=options["actor"], is_active=True).first()
        if actor is None:
            raise CommandError(f"No active member of staff with the e-mail {options['actor']}.")
        patient = Patient.objects.filter(mrn=options["mrn"].strip().upper()).first()
        if patient is None:
            raise CommandError("No patient with this MRN.")
        out = Path(options["out"])
        if out.exists():
            raise CommandError(f"{out} exists already: choose a new file name.")
        try:
            with open(out, "xb") as handle:
                event = patient_data_export(
                    actor=actor, patient=patient, reason=options["reason"], out=handle
                )
        except (PermissionDenied, ValidationError) as error:
            out.unlink(missing_ok=True)
            message = "; ".join(getattr(error, "messages", [str(error)]))
            raise CommandError(message) from None
        total = sum(event.summary["records"].values())
        self.stdout.write(f"{total} records exported to {out} (privacy log entry #{event.pk}).")
