"""Delete stored Idempotency-Key responses older than ANAGEN_IDEMPOTENCY_KEEP_HOURS."""

from datetime import datetime

from django.conf import settings

from anagen.clinic.api.idempotency import purge
from anagen.clinic.common.commands import SweepCommand


class Command(SweepCommand):
    help = (
        "Delete the API's stored responses of idempotent actions (and dead claims) older than "
        "ANAGEN_IDEMPOTENCY_KEEP_HOURS; a retry sent later than that acts again. The Celery beat "
        "runs the same purge every hour (api.tasks.purge_idempotent_responses)."
    )
    what = "purge"

    def sweep(self, *, now: datetime | None) -> str:
        deleted = purge(now=now)
        return (
            f"{deleted} stored idempotent response(s) older than "
            f"{settings.ANAGEN_IDEMPOTENCY_KEEP_HOURS} h deleted."
        )
