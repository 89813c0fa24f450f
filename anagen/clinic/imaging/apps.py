from django.apps import AppConfig


class ImagingConfig(AppConfig):
    name = "anagen.clinic.imaging"
    label = "imaging"
    verbose_name = "Imaging: photos, trichoscopy and hair measurement"

    def ready(self) -> None:
        # Registers the Celery tasks that ``dispatch`` sends by name (services never import them).
        from . import tasks  # noqa: F401
