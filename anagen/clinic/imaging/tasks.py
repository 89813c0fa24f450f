from celery import shared_task

from . import dispatch
from .models import TrichoscopyImage
from .services import analyses_retry_stuck, trichoscopy_analyse, trichoscopy_match

# The tasks call the services; the services enqueue by name through ``dispatch`` (no cycle).


@shared_task(name=dispatch.ANALYSE_TRICHOSCOPY)
def analyse_trichoscopy(image_id: int) -> str:
    record = TrichoscopyImage.objects.select_related("device").filter(pk=image_id).first()
    if record is None:
        return "missing"
    if record.status != TrichoscopyImage.Status.QUEUED:
        # A re-queued duplicate whose earlier copy already finished: nothing to do.
        return record.status
    # Acknowledged after it runs (settings: CELERY_TASK_ACKS_LATE): a copy redelivered after a
    # worker died mid-analysis, or one racing it, writes nothing once the image has a result.
    return trichoscopy_analyse(record=record, only_if_queued=True).status


@shared_task(name="anagen.clinic.imaging.tasks.retry_stuck_analyses")
def retry_stuck_analyses(now=None) -> dict[str, list[int]]:
    """Periodic (CELERY_BEAT_SCHEDULE): re-queue or fail trichoscopy images stuck in the queue."""
    return analyses_retry_stuck(now=now)


@shared_task(name=dispatch.MATCH_TRICHOSCOPY)
def match_trichoscopy(image_id: int) -> list[str]:
    """Match an analysed follow-up image to its site's baseline and previous visit."""
    record = TrichoscopyImage.objects.filter(pk=image_id).first()
    if record is None or record.status != TrichoscopyImage.Status.ANALYSED:
        return []
    return [m.status for m in trichoscopy_match(record=record)]
