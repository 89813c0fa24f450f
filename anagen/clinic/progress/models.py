"""The stored progress of a target site: its model forecast and plot, computed by a job.

Calibrating the follicle model and running its ensemble takes seconds, so it is never done
while a page waits. A ``ProgressSnapshot`` keeps the forecast and the plot of one target site
with the fingerprint of the inputs they were computed from (the measured series, the sessions
given and still planned, the zone, the years since onset, the model and algorithm versions).
A page compares that fingerprint with the current inputs: equal, it shows the snapshot; not,
it shows the measured values at once, says the forecast is being updated and asks for one
recompute (``requested_*`` make that once per input state, not once per request).

The snapshot is derived and rebuilt whole, so it has no history of its own: its sources do.
"""

from __future__ import annotations

from django.db import models

from anagen.clinic.imaging.models import TargetSite
from anagen.clinic.patients.models import Patient


class ProgressSnapshot(models.Model):
    target_site = models.OneToOneField(
        TargetSite, on_delete=models.CASCADE, related_name="progress_snapshot"
    )
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    # What the stored forecast and plot were computed from ("" until the first computation)
    fingerprint = models.CharField(max_length=64, blank=True)
    inputs = models.JSONField(default=dict, blank=True)
    forecast = models.JSONField(null=True, blank=True)  # follicles Forecast.to_dict()
    further_sessions = models.BooleanField(default=False)
    plot_png = models.BinaryField(blank=True, default=b"")
    computed_at = models.DateTimeField(null=True, blank=True)
    compute_seconds = models.FloatField(null=True, blank=True)
    model_version = models.CharField(max_length=80, blank=True)
    algorithm_versions = models.CharField(max_length=200, blank=True)
    # The recompute asked for by a page (once per input state; again after a lost job)
    requested_fingerprint = models.CharField(max_length=64, blank=True)
    requested_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Progress snapshot of target site #{self.target_site_id}"
