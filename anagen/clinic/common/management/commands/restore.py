from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from anagen.clinic.common.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore a backup (directory or .tar.gz) into an empty installation."

    def add_arguments(self, parser):
        parser.add_argument("source", help="a backup directory or .tar.gz file")

    def handle(self, *args, source, **options):
        try:
            summary = restore(Path(source))
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Restored {summary.path}: database and {summary.files} media files.")
