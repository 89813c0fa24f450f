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
    warm_registry_soon()
    return rows


#: Seconds between a change and the registry's frame being computed again (changes in a
#: burst, e.g. a batch re-analysis, share one computation).
WARM_DELAY = 30


def warm_registry_soon() -> None:
    """Queue ``warm_registry`` once for a burst of changes."""
    from django.core.cache import cache

    if cache.add("registry:warm-pending", True, timeout=WARM_DELAY):
        warm_registry.apply_async(countdown=WARM_DELAY)


@shared_task(name="anagen.clinic.registry.tasks.warm_registry")
def warm_registry() -> None:
    """Compute the whole registry's frame for the registry page's default measure, so the
    first reader after a change does not wait for it (kept per outcome-table version)."""
    from django.core.cache import cache

    from . import analysis, selectors

    cache.delete("registry:warm-pending")  # a change from now on queues the next one
    measure = analysis.MEASURES[analysis.DEFAULT_MEASURE]
    selectors.network_frame(cohort=selectors.Cohort(), columns=analysis.frame_columns(measure))
