from django.core.management.base import BaseCommand

from anagen.clinic.intake.services import reminders_send_due


class Command(BaseCommand):
    help = "E-mail reminders for appointments in the next 48 hours (each sent once only)."

    def handle(self, *args, **options):
        sent = reminders_send_due()
        self.stdout.write(f"{sent} reminder(s) sent.")
