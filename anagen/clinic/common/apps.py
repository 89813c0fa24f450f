from django.apps import AppConfig


class CommonConfig(AppConfig):
    """The bottom layer every clinic app may use; it imports none of the clinical apps."""

    name = "anagen.clinic.common"
    label = "common"
    verbose_name = "Clinic common"

    def ready(self):
        from django.db.models.signals import post_migrate
        from simple_history.signals import pre_create_historical_record

        from .append_only import install_history_triggers
        from .clock import history_date_from_clock

        # Once per migrate (sender: this app), after every app's tables exist.
        post_migrate.connect(install_history_triggers, sender=self, weak=False)
        # History rows are dated by the clinic clock, like the records they copy.
        pre_create_historical_record.connect(history_date_from_clock, weak=False)
