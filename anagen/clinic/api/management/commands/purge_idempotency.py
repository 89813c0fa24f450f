"""Delete stored Idempotency-Key responses older than ANAGEN_IDEMPOTENCY_KEEP_HOURS."""

from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from anagen.clinic.api.idempotency import purge


class Command(BaseCommand):
    help = (
        "Delete the API's stored responses of idempotent actions (and dead claims) older than "
        "ANAGEN_IDEMPOTENCY_KEEP_HOURS; a retry sent later than that acts again. The Celery beat "
        "runs the same purge every hour (api.tasks.purge_idempotent_responses)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            help="ISO date-time to purge as of (default: now); for drills and tests",
        )

    def handle(self, *args, **options):
        now: datetime | None = None
        if options["now"]:
            now = parse_datetime(options["now"])
            if now is None or now.tzinfo is None:
                raise CommandError("--now must be an ISO date-time with a time zone offset.")
        deleted = purge(now=now)
        self.stdout.write(
            f"{deleted} stored idempotent response(s) older than "
            f"{settings.ANAGEN_IDEMPOTENCY_KEEP_HOURS} h deleted."
        )
