from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The synthetic demo clinic (``manage.py load_demo``); no models, no pages."""

    name = "anagen.clinic.demo"
    label = "demo"
    verbose_name = "Demo clinic"
