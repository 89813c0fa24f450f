"""Re-queue, or fail with a message staff see, analyses stuck in the queue (as the beat does)."""

from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from anagen.clinic.imaging.services import analyses_retry_stuck


class Command(BaseCommand):
    help = (
        "Re-queue trichoscopy analyses queued longer than ANAGEN_ANALYSIS_STUCK_MINUTES; after "
        "ANAGEN_ANALYSIS_MAX_ATTEMPTS the image fails with a message on its page. The Celery "
        "beat runs the same sweep every 5 minutes (imaging.tasks.retry_stuck_analyses)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            help="ISO date-time to sweep as of (default: now); for drills and tests",
        )

    def handle(self, *args, **options):
        now: datetime | None = None
        if options["now"]:
            now = parse_datetime(options["now"])
            if now is None or now.tzinfo is None:
                raise CommandError("--now must be an ISO date-time with a time zone offset.")
        outcome = analyses_retry_stuck(now=now)
        requeued, failed = outcome["requeued"], outcome["failed"]
        self.stdout.write(
            f"{len(requeued)} analysis job(s) queued again"
            + (f" (images {', '.join(map(str, requeued))})" if requeued else "")
            + f"; {len(failed)} given up after {settings.ANAGEN_ANALYSIS_MAX_ATTEMPTS} attempts"
            + (f" (images {', '.join(map(str, failed))})" if failed else "")
            + "."
        )
