from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """Patients' rights: export of all of one patient's data, erasure by pseudonymization."""

    name = "anagen.clinic.privacy"
    label = "privacy"
    verbose_name = "Patients' data rights"
