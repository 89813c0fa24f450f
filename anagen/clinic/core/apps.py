from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "anagen.clinic.core"
    label = "core"
    verbose_name = "Clinic core"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import checks  # noqa: F401  (registers the system checks)
        from .append_only import install_history_triggers

        # Once per migrate (sender: this app), after every app's tables exist.
        post_migrate.connect(install_history_triggers, sender=self, weak=False)
