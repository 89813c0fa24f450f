from celery import shared_task


@shared_task(name="anagen.clinic.imaging.tasks.analyse_trichoscopy")
def analyse_trichoscopy(image_id: int) -> str:
    from .models import TrichoscopyImage
    from .services import trichoscopy_analyse

    record = TrichoscopyImage.objects.select_related("device").get(pk=image_id)
    return trichoscopy_analyse(record=record).status
