"""Writes of the progress app: the jobs that compute a site's stored forecast and plot, and the
one request a page makes when the stored one is outdated.

Nothing here changes a clinical record: a snapshot is derived from the outcome table, the
sessions and the plan, and is recomputed only when those inputs (or the model) changed.
"""

from __future__ import annotations

import time
from datetime import timedelta

from anagen.clinic.common import clock
from anagen.clinic.imaging.dispatch import send_on_commit
from anagen.clinic.imaging.models import TargetSite
from anagen.clinic.patients.models import Patient

from . import forecast as model
from .models import ProgressSnapshot
from .selectors import MODEL_VERSION, forecast_inputs

REFRESH_SNAPSHOTS = "anagen.clinic.progress.tasks.refresh_snapshots"

#: A requested recompute not done after this long is requested again (its job was lost).
REQUEST_RETRY_AFTER = timedelta(minutes=10)


def snapshot_refresh(*, target_site: TargetSite) -> tuple[ProgressSnapshot, bool]:
    """Recompute ``target_site``'s forecast and plot unless the stored ones are current.

    Returns the snapshot and whether it was recomputed.
    """
    inputs = forecast_inputs(target_site=target_site)
    fingerprint = inputs.fingerprint
    snapshot = ProgressSnapshot.objects.filter(target_site=target_site).first()
    if snapshot is not None and snapshot.fingerprint == fingerprint:
        return snapshot, False
    started = time.perf_counter()
    prediction = model.site_forecast(inputs)
    png = model.progress_png(inputs, prediction) if inputs.points else b""
    snapshot, _ = ProgressSnapshot.objects.update_or_create(
        target_site=target_site,
        defaults={
            "patient_id": target_site.patient_id,
            "fingerprint": fingerprint,
            "inputs": inputs.as_json(),
            "forecast": prediction,
            "further_sessions": model.has_further_sessions(prediction),
            "plot_png": png,
            "computed_at": clock.now(),
            "compute_seconds": time.perf_counter() - started,
            "model_version": MODEL_VERSION,
            "algorithm_versions": ", ".join(inputs.algorithm_versions)[:200],
        },
    )
    return snapshot, True


def snapshots_refresh(*, patient: Patient) -> int:
    """Bring every target site of ``patient`` up to date; returns how many were recomputed."""
    recomputed = 0
    for site in patient.target_sites.select_related("patient").order_by("pk"):
        _, done = snapshot_refresh(target_site=site)
        recomputed += done
    return recomputed


def snapshots_refresh_later(*, patient_id: int) -> None:
    """Queue the job for ``patient_id`` once the current transaction commits."""
    send_on_commit(REFRESH_SNAPSHOTS, patient_id)


def snapshot_request(*, target_site: TargetSite, fingerprint: str) -> bool:
    """A page found ``target_site``'s snapshot outdated: queue one recompute.

    Once per input state: a second page load (or a second member of staff) with the same
    inputs queues nothing, unless the first request is older than ``REQUEST_RETRY_AFTER``.
    Returns whether a job was queued.
    """
    snapshot, _ = ProgressSnapshot.objects.get_or_create(
        target_site=target_site, defaults={"patient_id": target_site.patient_id}
    )
    now = clock.now()
    claimed = (
        ProgressSnapshot.objects.filter(pk=snapshot.pk)
        .exclude(requested_fingerprint=fingerprint, requested_at__gte=now - REQUEST_RETRY_AFTER)
        .update(requested_fingerprint=fingerprint, requested_at=now)
    )
    if claimed:
        snapshots_refresh_later(patient_id=target_site.patient_id)
    return bool(claimed)
