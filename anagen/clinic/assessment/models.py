from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from anagen.clinic.common.clock import ClockDateTimeField
from anagen.clinic.common.dates import local_day
from anagen.clinic.patients.models import Patient
from anagen.eligibility import vocab


def _choices(codes, prefix: str = "") -> list[tuple[str, str]]:
    return [(str(code), label) for code, label in vocab.choices(codes, prefix)]


class Assessment(models.Model):
    """The physician's structured assessment of a patient's hair loss at one visit."""

    class PullTest(models.TextChoices):
        NOT_DONE = "not_done", "Not done"
        NEGATIVE = "negative", "Negative (≤ 2 hairs)"
        POSITIVE = "positive", "Positive (> 2 hairs)"

    class FamilyHistory(models.TextChoices):
        NONE = "none", "None known"
        MATERNAL = "maternal", "Maternal side"
        PATERNAL = "paternal", "Paternal side"
        BOTH = "both", "Both sides"
        UNKNOWN = "unknown", "Unknown"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="assessments")
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assessed_at = models.DateTimeField()
    # History of the loss
    onset_age_years = models.PositiveSmallIntegerField(
        "age at onset (years)", null=True, blank=True
    )
    loss_duration_months = models.PositiveSmallIntegerField(
        "duration of loss (months)", null=True, blank=True
    )
    pattern = models.CharField(max_length=16, choices=_choices(vocab.PATTERNS))
    family_history = models.CharField(
        max_length=16, choices=FamilyHistory.choices, default=FamilyHistory.UNKNOWN
    )
    triggers = models.JSONField("triggers in the last 6 months", default=list, blank=True)
    drugs = models.JSONField("current or recent drugs", default=list, blank=True)
    prior_treatments = models.JSONField(
        default=dict,
        blank=True,
        help_text='{"minoxidil": {"started": "2024-01-01", "stopped": null}}',
    )
    # Labs (units fixed by the eligibility vocabulary)
    ferritin = models.DecimalField(
        "ferritin (µg/L)", max_digits=7, decimal_places=1, null=True, blank=True
    )
    tsh = models.DecimalField("TSH (mIU/L)", max_digits=6, decimal_places=2, null=True, blank=True)
    vitamin_d = models.DecimalField(
        "25-OH vitamin D (nmol/L)", max_digits=6, decimal_places=1, null=True, blank=True
    )
    haemoglobin = models.DecimalField(
        "haemoglobin (g/dL)", max_digits=4, decimal_places=1, null=True, blank=True
    )
    # Scales and examination
    norwood = models.CharField(
        "Norwood-Hamilton", max_length=12, blank=True, choices=_choices(vocab.NORWOOD, "norwood")
    )
    ludwig = models.CharField(
        "Ludwig", max_length=4, blank=True, choices=_choices(vocab.LUDWIG, "ludwig")
    )
    sinclair = models.PositiveSmallIntegerField(
        "Sinclair", null=True, blank=True, choices=vocab.choices(vocab.SINCLAIR, "sinclair")
    )
    savin = models.CharField(
        "Savin", max_length=12, blank=True, choices=_choices(vocab.SAVIN, "savin")
    )
    basp = models.CharField("BASP code", max_length=16, blank=True)
    pull_test = models.CharField(max_length=12, choices=PullTest.choices, default=PullTest.NOT_DONE)
    trichoscopy_findings = models.JSONField(default=list, blank=True)
    trichoscopy_notes = models.TextField(blank=True, max_length=4000)
    contraindications = models.JSONField(default=list, blank=True)
    notes = models.TextField("clinical notes", blank=True, max_length=8000)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-assessed_at"]

    def __str__(self) -> str:
        return f"Assessment of {self.patient.mrn} on {local_day(self.assessed_at)}"

    @property
    def labs(self) -> dict[str, float]:
        return {
            code: float(getattr(self, code))
            for code in ("ferritin", "tsh", "vitamin_d", "haemoglobin")
            if getattr(self, code) is not None
        }


class EligibilityDecision(models.Model):
    """The engine's decision for an assessment, with its reasons and any physician override."""

    # The eligibility library owns the outcome codes and their clinic labels.
    OUTCOMES = vocab.choices(vocab.OUTCOMES)

    assessment = models.OneToOneField(Assessment, on_delete=models.PROTECT, related_name="decision")
    outcome = models.CharField(max_length=32, choices=OUTCOMES)
    reasons = models.JSONField(default=list)
    ruleset_version = models.CharField(max_length=32)
    decided_at = ClockDateTimeField(auto_now_add=True)
    override_outcome = models.CharField(max_length=32, choices=OUTCOMES, blank=True)
    override_reason = models.TextField(blank=True, max_length=4000)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    overridden_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()
    audit_patient_path = "assessment__patient"

    def __str__(self) -> str:
        return f"{self.final_outcome_label} ({self.ruleset_version})"

    @property
    def final_outcome(self) -> str:
        return self.override_outcome or self.outcome

    @property
    def final_outcome_label(self) -> str:
        return vocab.OUTCOME_LABELS[self.final_outcome]
