from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "anagen.clinic.review"
    label = "review"
    verbose_name = "Blinded photographic review"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (the pair-creation job on the beat)
