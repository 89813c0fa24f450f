"""Re-queue, or fail with a message staff see, analyses stuck in the queue (as the beat does)."""

from datetime import datetime

from django.conf import settings

from anagen.clinic.common.commands import SweepCommand
from anagen.clinic.imaging.services import analyses_retry_stuck


class Command(SweepCommand):
    help = (
        "Re-queue trichoscopy analyses queued longer than ANAGEN_ANALYSIS_STUCK_MINUTES; after "
        "ANAGEN_ANALYSIS_MAX_ATTEMPTS the image fails with a message on its page. The Celery "
        "beat runs the same sweep every 5 minutes (imaging.tasks.retry_stuck_analyses)."
    )
    what = "sweep"

    def sweep(self, *, now: datetime | None) -> str:
        outcome = analyses_retry_stuck(now=now)
        requeued, failed = outcome["requeued"], outcome["failed"]
        return (
            f"{len(requeued)} analysis job(s) queued again"
            + (f" (images {', '.join(map(str, requeued))})" if requeued else "")
            + f"; {len(failed)} given up after {settings.ANAGEN_ANALYSIS_MAX_ATTEMPTS} attempts"
            + (f" (images {', '.join(map(str, failed))})" if failed else "")
            + "."
        )
