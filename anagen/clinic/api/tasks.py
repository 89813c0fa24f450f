from datetime import datetime

from celery import shared_task

from .idempotency import purge


@shared_task(name="anagen.clinic.api.tasks.purge_idempotent_responses")
def purge_idempotent_responses(now: datetime | None = None) -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): delete stored idempotent responses past their keeping."""
    return purge(now=now)
