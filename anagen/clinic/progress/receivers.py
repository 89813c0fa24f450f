"""The stored forecast follows the outcome table.

The registry already turns every change of a source record (an analysis, a correction, a
session, the plan, an assessment) into one rebuild of the patient's outcome rows after the
transaction commits (``registry/receivers.py``), and then sends ``outcomes_refreshed``. The
progress job hangs off that one mechanism instead of watching the clinical models itself; it
recomputes only the sites whose inputs changed (``services.snapshot_refresh``).
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from anagen.clinic.registry.signals import outcomes_refreshed

from .services import snapshots_refresh_later


@receiver(outcomes_refreshed)
def outcomes_changed(sender: Any, patient_id: int, **kwargs: Any) -> None:
    snapshots_refresh_later(patient_id=patient_id)
