from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from anagen.clinic.common.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the database and media files, with a SHA-256 manifest (docs/operations.md)."

    def add_arguments(self, parser):
        parser.add_argument("destination", help="a new directory, or a .tar.gz file")

    def handle(self, *args, destination, **options):
        try:
            summary = backup(Path(destination), archive=destination.endswith(".tar.gz"))
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Backup written: {summary.path} ({summary.files} files, {summary.bytes} bytes)"
        )
