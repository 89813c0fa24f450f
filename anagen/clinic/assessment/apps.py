from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "anagen.clinic.assessment"
    label = "assessment"
    verbose_name = "Assessment and eligibility"
