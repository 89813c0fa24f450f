from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST API (``/api/v1/``): thin views over the same services and selectors as the pages."""

    name = "anagen.clinic.api"
    label = "api"
    verbose_name = "REST API"
