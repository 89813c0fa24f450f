"""``manage.py export_registry OUTDIR``: the de-identified registry export of every site."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from anagen.clinic.registry.export import export_key_configured, logged, write_all
from anagen.clinic.registry.selectors import export_frame


class Command(BaseCommand):
    help = (
        "Write the de-identified outcome table (CSV, Parquet), its data dictionary and a REDCap "
        "data dictionary into OUTDIR. Ids are hashed and dates shifted with ANAGEN_EXPORT_KEY."
    )

    def add_arguments(self, parser):
        parser.add_argument("outdir", type=Path)

    def handle(self, *args, outdir: Path, **options):
        if not export_key_configured():
            # Checked before anything is read or written: no half-written export directory.
            raise CommandError(
                "ANAGEN_EXPORT_KEY is not set (at least 16 characters): ids cannot be hashed "
                "nor dates shifted, so nothing was exported."
            )
        frame = export_frame(user=None)
        paths = write_all(outdir, frame)
        logged(user_id=None, kind="command", rows=len(frame))
        for path in paths:
            self.stdout.write(str(path))
        self.stdout.write(self.style.SUCCESS(f"{len(frame)} rows exported to {outdir}"))
