from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    name = "anagen.clinic.treatment"
    label = "treatment"
    verbose_name = "Treatment: plans, consent, harvest, cell products, sessions"
