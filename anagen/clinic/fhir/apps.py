from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "anagen.clinic.fhir"
    label = "fhir"
    verbose_name = "FHIR R5 interface"
