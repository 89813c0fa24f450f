from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The patient's audit trail and the e-signatures it shows."""

    name = "anagen.clinic.audit"
    label = "audit"
    verbose_name = "Audit trail and e-signatures"

    def ready(self):
        from . import checks  # noqa: F401  (registers the signature key checks)
