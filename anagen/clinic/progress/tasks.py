from celery import shared_task


@shared_task(name="anagen.clinic.progress.tasks.refresh_snapshots")
def refresh_snapshots(patient_id: int) -> int:
    """Recompute the outdated progress snapshots of one patient (see services.py)."""
    from anagen.clinic.patients.models import Patient

    from .services import snapshots_refresh

    patient = Patient.objects.filter(pk=patient_id).first()
    return 0 if patient is None else snapshots_refresh(patient=patient)
