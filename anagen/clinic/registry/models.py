"""The registry: what a follow-up visit adds to the record, and the one tidy outcome table.

``VisitReport`` holds what staff and the patient report at a follow-up visit (pull test, the
patient's short questionnaire, the investigator's global photographic assessment); it is a
clinical record with history. ``OutcomeRecord`` is *derived*: one row per analysed trichoscopy
image (a visit × target site) with every outcome measure and covariate the statistics need.
It is rebuilt from the clinical records whenever they change (``services.outcomes_refresh``)
and never edited, so it has no history of its own: its sources do.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from anagen.clinic.accounts.models import Site
from anagen.clinic.common.clock import ClockDateTimeField
from anagen.clinic.imaging.models import ImagingVisit, TargetSite, TrichoscopyImage
from anagen.clinic.patients.models import Patient


class Satisfaction(models.IntegerChoices):
    VERY_DISSATISFIED = 1, "Very dissatisfied"
    DISSATISFIED = 2, "Dissatisfied"
    NEUTRAL = 3, "Neither satisfied nor dissatisfied"
    SATISFIED = 4, "Satisfied"
    VERY_SATISFIED = 5, "Very satisfied"


class Shedding(models.IntegerChoices):
    LESS = -1, "Less than usual"
    USUAL = 0, "As usual"
    MORE = 1, "More than usual"


class GlobalAssessment(models.IntegerChoices):
    """The 7-point investigator global photographic assessment (change from baseline)."""

    GREATLY_DECREASED = -3, "Greatly decreased (−3)"
    MODERATELY_DECREASED = -2, "Moderately decreased (−2)"
    SLIGHTLY_DECREASED = -1, "Slightly decreased (−1)"
    NO_CHANGE = 0, "No change (0)"
    SLIGHTLY_INCREASED = 1, "Slightly increased (+1)"
    MODERATELY_INCREASED = 2, "Moderately increased (+2)"
    GREATLY_INCREASED = 3, "Greatly increased (+3)"


class VisitReport(models.Model):
    """What a follow-up visit adds beyond the images: pull test, questionnaire, global score."""

    visit = models.OneToOneField(ImagingVisit, on_delete=models.PROTECT, related_name="report")
    pull_test_hairs = models.PositiveSmallIntegerField(
        "pull test (hairs out of about 60)",
        null=True,
        blank=True,
        validators=[MaxValueValidator(60)],
        help_text="Hairs that came out in a gentle pull of about 60 hairs; empty if not done.",
    )
    satisfaction = models.SmallIntegerField(
        "patient's satisfaction with the result",
        choices=Satisfaction.choices,
        null=True,
        blank=True,
    )
    shedding = models.SmallIntegerField(
        "shedding in the last two weeks (patient)", choices=Shedding.choices, null=True, blank=True
    )
    global_assessment = models.SmallIntegerField(
        "investigator's global assessment",
        choices=GlobalAssessment.choices,
        null=True,
        blank=True,
        validators=[MinValueValidator(-3), MaxValueValidator(3)],
        help_text="Standardized photographs of this visit against baseline.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = ClockDateTimeField(auto_now_add=True)
    history = HistoricalRecords()
    audit_patient_path = "visit__patient"

    def __str__(self) -> str:
        return f"Visit report for visit #{self.visit_id}"


class OutcomeRecord(models.Model):
    """One row of the tidy outcome table: an analysed image of a target site at a visit."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    visit = models.ForeignKey(ImagingVisit, on_delete=models.CASCADE, related_name="+")
    target_site = models.ForeignKey(TargetSite, on_delete=models.CASCADE, related_name="+")
    image = models.OneToOneField(TrichoscopyImage, on_delete=models.CASCADE, related_name="+")
    taken_on = models.DateField()
    visit_day = models.IntegerField("days since baseline")
    days_since_first_session = models.IntegerField(null=True)
    window_day = models.IntegerField("protocol window (day)", null=True)
    # Measures: the value used (corrected when a clinician corrected) and the automatic one
    density_per_cm2 = models.FloatField()
    terminal_density_per_cm2 = models.FloatField()
    vellus_density_per_cm2 = models.FloatField()
    density_auto_per_cm2 = models.FloatField()
    terminal_density_auto_per_cm2 = models.FloatField()
    vellus_density_auto_per_cm2 = models.FloatField()
    corrected = models.BooleanField(default=False)
    mean_diameter_um = models.FloatField(null=True)
    cumulative_thickness_mm_per_cm2 = models.FloatField(null=True)
    anagen_fraction = models.FloatField(null=True)
    # Hair-to-hair change from the target site's baseline image (imaging.MatchedChange), when
    # the pair could be matched; the change computation prefers it (``analysis.per_visit``),
    # the independent densities above stay on record
    matched_change_per_cm2 = models.FloatField(
        "density change from baseline, matched hairs (hairs/cm²)", null=True
    )
    matched_terminal_change_per_cm2 = models.FloatField(
        "terminal density change from baseline, matched hairs (hairs/cm²)", null=True
    )
    matched_persisting = models.PositiveIntegerField(null=True)
    matched_lost = models.PositiveIntegerField(null=True)
    matched_new = models.PositiveIntegerField(null=True)
    quality_ok = models.BooleanField(null=True)
    algorithm_version = models.CharField(max_length=40)
    # What the visit report adds
    pull_test_hairs = models.PositiveSmallIntegerField(null=True)
    satisfaction = models.SmallIntegerField(null=True)
    shedding = models.SmallIntegerField(null=True)
    global_assessment = models.SmallIntegerField(null=True)
    # Mean blinded reviewers' score of this visit's photos against baseline (−3…+3)
    blinded_review_score = models.FloatField(null=True)
    # Covariates (as of the visit)
    age_years = models.PositiveSmallIntegerField("age at baseline")
    sex = models.CharField(max_length=8)
    stage = models.CharField(max_length=24, blank=True)
    protocol = models.CharField(max_length=120, blank=True)
    method = models.CharField(max_length=24, blank=True)
    prp = models.BooleanField(default=False)
    sessions_to_date = models.PositiveSmallIntegerField(default=0)
    cells_to_date = models.PositiveBigIntegerField(default=0)
    adverse_events_to_date = models.PositiveSmallIntegerField(default=0)
    zone = models.CharField(max_length=16)
    refreshed_at = models.DateTimeField()

    class Meta:
        ordering = ["patient_id", "taken_on", "image_id"]
        indexes = [
            models.Index(fields=["site", "visit_day"]),
            models.Index(fields=["patient", "taken_on"]),
        ]

    def __str__(self) -> str:
        return f"Outcome of image #{self.image_id}"
