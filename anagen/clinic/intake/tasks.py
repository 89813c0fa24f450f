from celery import shared_task

from .services import reminders_send_due


@shared_task(name="anagen.clinic.intake.tasks.send_appointment_reminders")
def send_appointment_reminders() -> int:
    return reminders_send_due()
