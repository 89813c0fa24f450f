from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "anagen.clinic.intake"
    label = "intake"
    verbose_name = "Inquiries and appointments"
