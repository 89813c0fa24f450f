"""The privacy log: every export of a patient's data and every erasure, append-only."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from anagen.clinic.common.clock import ClockDateTimeField
from anagen.clinic.patients.models import Patient


class PrivacyEvent(models.Model):
    """Who exported or erased which patient's data, when and why (never changed afterwards).

    An erasure keeps the patient row (pseudonymized) so that this record, the de-identified
    registry rows and the clinical records still point to it; the record holds the pseudonym,
    never the erased values.
    """

    class Kind(models.TextChoices):
        EXPORT = "export", "Data export"
        ERASURE = "erasure", "Erasure (pseudonymization)"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = ClockDateTimeField(auto_now_add=True)
    reason = models.TextField(max_length=2000)
    pseudonym = models.CharField(max_length=16, blank=True)
    #: What was done, in counts (rows pseudonymized, files removed or renamed), never values.
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["patient", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"
