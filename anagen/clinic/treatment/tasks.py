from datetime import datetime

from celery import shared_task

from .services import products_expire_due_scheduled


@shared_task(name="anagen.clinic.treatment.tasks.expire_products")
def expire_products(now: datetime | None = None) -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): expire every product past its expiry, as the system actor."""
    return products_expire_due_scheduled(now=now)
