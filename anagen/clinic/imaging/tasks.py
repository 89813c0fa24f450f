from celery import shared_task

# Services import this module lazily (to enqueue); these tasks import services lazily too, so
# neither module needs the other at import time.


@shared_task(name="anagen.clinic.imaging.tasks.analyse_trichoscopy")
def analyse_trichoscopy(image_id: int) -> str:
    from .models import TrichoscopyImage
    from .services import trichoscopy_analyse

    record = TrichoscopyImage.objects.select_related("device").filter(pk=image_id).first()
    if record is None:
        return "missing"
    if record.status != TrichoscopyImage.Status.QUEUED:
        # A re-queued duplicate whose earlier copy already finished: nothing to do.
        return record.status
    return trichoscopy_analyse(record=record).status


@shared_task(name="anagen.clinic.imaging.tasks.retry_stuck_analyses")
def retry_stuck_analyses(now=None) -> dict[str, list[int]]:
    """Periodic (CELERY_BEAT_SCHEDULE): re-queue or fail trichoscopy images stuck in the queue."""
    from .services import analyses_retry_stuck

    return analyses_retry_stuck(now=now)
