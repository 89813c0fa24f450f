from celery import shared_task


@shared_task(name="anagen.clinic.review.tasks.create_review_pairs")
def create_review_pairs() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): offer new before/after photo pairs for blinded review."""
    from .services import review_pairs_create_scheduled

    return review_pairs_create_scheduled()
