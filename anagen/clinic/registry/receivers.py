"""Keep the outcome table in step with the clinical records it is derived from.

The registry depends on the clinical apps, never the reverse: instead of every clinical
service remembering to refresh the registry, a change to any source record enqueues one
rebuild of that patient's rows after the transaction commits (once per patient per
transaction, however many records changed).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from anagen.clinic.assessment.models import Assessment
from anagen.clinic.imaging.models import MatchedChange, TrichoscopyImage
from anagen.clinic.review.models import ReviewScore
from anagen.clinic.treatment.models import AdverseEvent, TreatmentPlan, TreatmentSession

from .models import VisitReport


def _patient_id(instance: Any) -> int | None:
    if isinstance(instance, TrichoscopyImage | VisitReport):
        return instance.visit.patient_id
    if isinstance(instance, MatchedChange):
        return instance.followup.visit.patient_id
    if isinstance(instance, ReviewScore):
        return instance.pair.patient_id
    return getattr(instance, "patient_id", None)


class _Pending:
    """The patients changed in the current transaction, flushed by one on-commit callback."""

    def __init__(self) -> None:
        self.patient_ids: set[int] = set()

    def flush(self) -> None:
        ids, self.patient_ids = self.patient_ids, set()
        for patient_id in sorted(ids):
            _enqueue(patient_id)


def refresh_later(patient_id: int) -> None:
    """Enqueue one rebuild of ``patient_id``'s rows when the current transaction commits."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _enqueue(patient_id)
        return
    pending: _Pending | None = getattr(connection, "anagen_outcomes_pending", None)
    # The flush callback is still registered unless the transaction that registered it was
    # rolled back (Django then drops its on-commit callbacks): start afresh in that case.
    registered = pending is not None and any(
        callback == pending.flush for _, callback, _ in connection.run_on_commit
    )
    if pending is None or not registered:
        pending = _Pending()
        connection.anagen_outcomes_pending = pending
        transaction.on_commit(pending.flush)
    pending.patient_ids.add(patient_id)


def _enqueue(patient_id: int) -> None:
    from .tasks import refresh_outcomes

    refresh_outcomes.delay(patient_id)


@receiver(post_save, sender=TrichoscopyImage)
@receiver(post_save, sender=VisitReport)
@receiver(post_save, sender=TreatmentSession)
@receiver(post_save, sender=AdverseEvent)
@receiver(post_save, sender=Assessment)
@receiver(post_save, sender=TreatmentPlan)
@receiver(post_save, sender=ReviewScore)
@receiver(post_save, sender=MatchedChange)
@receiver(post_delete, sender=TrichoscopyImage)
def source_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return  # fixtures loading
    patient_id = _patient_id(instance)
    if patient_id is not None:
        refresh_later(patient_id)
