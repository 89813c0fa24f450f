from django.apps import AppConfig


class ImagingConfig(AppConfig):
    name = "anagen.clinic.imaging"
    label = "imaging"
    verbose_name = "Imaging: photos, trichoscopy and hair measurement"
