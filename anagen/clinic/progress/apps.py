from django.apps import AppConfig


class ProgressConfig(AppConfig):
    name = "anagen.clinic.progress"
    label = "progress"
    verbose_name = "Patient progress and reports"

    def ready(self) -> None:
        # The stored forecast follows the outcome table (receivers.py); the job is registered.
        from . import receivers, tasks  # noqa: F401
