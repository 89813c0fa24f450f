from celery import shared_task


@shared_task(name="anagen.clinic.registry.tasks.refresh_outcomes")
def refresh_outcomes(patient_id: int) -> int:
    """Rebuild one patient's outcome rows (enqueued by receivers.py after a change commits)."""
    from anagen.clinic.patients.models import Patient

    from .services import outcomes_refresh
    from .signals import outcomes_refreshed

    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        return 0
    rows = outcomes_refresh(patient=patient)  # its own transaction, committed on return
    outcomes_refreshed.send(sender=refresh_outcomes, patient_id=patient_id)
    return rows
