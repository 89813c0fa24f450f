from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "anagen.clinic.patients"
    label = "patients"
    verbose_name = "Patients"
