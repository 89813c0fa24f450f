from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "anagen.clinic.registry"
    label = "registry"
    verbose_name = "Registry: outcomes and evidence"

    def ready(self) -> None:
        # The outcome table follows the clinical records it is derived from (receivers.py).
        from . import receivers  # noqa: F401
