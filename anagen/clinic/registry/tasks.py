from celery import shared_task


@shared_task(name="anagen.clinic.registry.tasks.refresh_outcomes")
def refresh_outcomes(patient_id: int) -> int:
    """Rebuild one patient's outcome rows (enqueued by receivers.py after a change commits)."""
    from anagen.clinic.patients.models import Patient

    from .services import outcomes_refresh

    patient = Patient.objects.filter(pk=patient_id).first()
    return 0 if patient is None else outcomes_refresh(patient=patient)
