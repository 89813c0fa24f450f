from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "anagen.clinic.core"
    label = "core"
    verbose_name = "Clinic core"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
