"""Standardized photos and trichoscopy of a marked target site, with measured hair outcomes.

The automatic trichometry result and a clinician's correction are both kept: the automatic
values are never overwritten by a correction, and history records who changed what.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from anagen.clinic.common.clock import ClockDateTimeField
from anagen.clinic.common.dates import local_day
from anagen.clinic.common.scalp import ScalpZone
from anagen.clinic.common.uploads import validate_image_upload
from anagen.clinic.patients.models import Patient
from anagen.clinic.treatment.models import ScheduledVisit


class Device(models.Model):
    """A dermatoscope or camera with its calibration at one magnification."""

    name = models.CharField(max_length=120)
    magnification = models.CharField(max_length=20, blank=True, help_text="e.g. 20×")
    um_per_px = models.DecimalField(
        "calibration (µm per pixel)",
        max_digits=7,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0.5), MaxValueValidator(100)],
        help_text="Measured with a stage micrometer. Images cannot be measured without it.",
    )
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"{self.name} {self.magnification}".strip()


class TargetSite(models.Model):
    """The marked trichoscopy site, re-imaged at the same place every visit."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="target_sites")
    zone = models.CharField(max_length=16, choices=ScalpZone.choices)
    description = models.CharField(
        max_length=200, help_text="e.g. 10 cm behind the glabella on the midline"
    )
    landmark_note = models.TextField(
        blank=True, help_text="How to find it again: tattoo dot, distance from landmarks."
    )
    created_at = ClockDateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"{self.get_zone_display()}: {self.description}"


class ImagingVisit(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="imaging_visits")
    taken_on = models.DateField()
    scheduled_visit = models.ForeignKey(
        ScheduledVisit, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-taken_on"]

    def __str__(self) -> str:
        return f"Imaging {local_day(self.taken_on)} ({self.patient.mrn})"


class GlobalPhoto(models.Model):
    class View(models.TextChoices):
        FRONT = "front", "Front"
        TOP = "top", "Top"
        VERTEX = "vertex", "Vertex"
        LEFT = "left", "Left"
        RIGHT = "right", "Right"
        BACK = "back", "Back"

    visit = models.ForeignKey(ImagingVisit, on_delete=models.CASCADE, related_name="photos")
    view = models.CharField(max_length=8, choices=View.choices)
    image = models.ImageField(upload_to="photos/", validators=[validate_image_upload])
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = ClockDateTimeField(auto_now_add=True)
    history = HistoricalRecords()
    audit_patient_path = "visit__patient"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["visit", "view"], name="one_photo_per_view")]

    def __str__(self) -> str:
        return f"{self.get_view_display()} photo"


class TrichoscopyImage(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        ANALYSED = "analysed", "Analysed"
        FAILED = "failed", "Failed"

    visit = models.ForeignKey(ImagingVisit, on_delete=models.CASCADE, related_name="trichoscopy")
    target_site = models.ForeignKey(TargetSite, on_delete=models.PROTECT, related_name="images")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="+")
    image = models.ImageField(upload_to="trichoscopy/", validators=[validate_image_upload])
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = ClockDateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    error = models.CharField(max_length=500, blank=True)  # in clinic words, shown to staff
    # Each enqueue counts, so a job lost by a dead worker is retried a bounded number of times.
    analysis_attempts = models.PositiveSmallIntegerField(default=0)
    analysis_queued_at = models.DateTimeField(null=True, blank=True)
    # Automatic result (never edited by hand)
    algorithm_version = models.CharField(max_length=40, blank=True)
    um_per_px = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    overlay = models.ImageField(upload_to="overlays/", blank=True)
    hair_count = models.PositiveIntegerField(null=True, blank=True)
    area_cm2 = models.FloatField(null=True, blank=True)
    density_per_cm2 = models.FloatField(null=True, blank=True)
    terminal_count = models.PositiveIntegerField(null=True, blank=True)
    vellus_count = models.PositiveIntegerField(null=True, blank=True)
    mean_diameter_um = models.FloatField(null=True, blank=True)
    cumulative_thickness_mm_per_cm2 = models.FloatField(null=True, blank=True)
    quality_ok = models.BooleanField(null=True, blank=True)
    analysed_at = models.DateTimeField(null=True, blank=True)
    # A clinician's correction, kept beside the automatic values
    removed_hair_ids = models.JSONField(default=list, blank=True)
    # Missed hairs in all (those placed on the image included); ``added_hairs`` holds the placed
    # ones, ``{"x": px, "y": px, "kind": "terminal" | "vellus"}`` in image pixels.
    added_terminal = models.PositiveIntegerField(default=0)
    added_vellus = models.PositiveIntegerField(default=0)
    added_hairs = models.JSONField(default=list, blank=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    corrected_at = models.DateTimeField(null=True, blank=True)
    correction_note = models.CharField(max_length=500, blank=True)
    # Phototrichogram: a day-2/3 re-image of the same clipped site points to its day-0 image;
    # the growth analysis of the pair (``anagen.trichometry.anagen_telogen``) is kept here.
    regrowth_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="regrowths",
        verbose_name="re-image of (day-0 image)",
    )
    anagen_fraction = models.FloatField(null=True, blank=True)
    growing_count = models.PositiveIntegerField("growing (anagen) hairs", null=True, blank=True)
    non_growing_count = models.PositiveIntegerField(
        "non-growing (telogen) hairs", null=True, blank=True
    )
    growth_result = models.JSONField(null=True, blank=True)
    growth_error = models.CharField(max_length=500, blank=True)  # clinic words
    history = HistoricalRecords()
    audit_patient_path = "visit__patient"

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"Trichoscopy #{self.pk} ({self.get_status_display()})"

    @property
    def is_corrected(self) -> bool:
        return self.corrected_at is not None

    def counted_hairs(self) -> list[tuple[dict, str]]:
        """The automatic result's counted hairs with their kind (by the vellus diameter cut-off),
        the one rule the corrected counts and the correction viewer share."""
        if self.result is None:
            return []
        vellus_max = self.result["vellus_max_um"]
        return [
            (h, "terminal" if h["diameter_um"] > vellus_max else "vellus")
            for h in self.result.get("hairs", [])
            if h["counted"]
        ]

    def unplaced_added(self) -> dict[str, int]:
        """Missed hairs added as a number only (not placed on the image), by kind."""
        placed = [hair["kind"] for hair in self.added_hairs]
        return {
            "terminal": self.added_terminal - placed.count("terminal"),
            "vellus": self.added_vellus - placed.count("vellus"),
        }

    def corrected_counts(self) -> dict | None:
        """Counts after the clinician's correction (removed hairs out, missed hairs in)."""
        if self.result is None:
            return None
        removed = set(self.removed_hair_ids)
        kept = [kind for hair, kind in self.counted_hairs() if hair["id"] not in removed]
        terminal = kept.count("terminal") + self.added_terminal
        vellus = kept.count("vellus") + self.added_vellus
        count = terminal + vellus
        return {
            "hair_count": count,
            "terminal_count": terminal,
            "vellus_count": vellus,
            "density_per_cm2": count / self.area_cm2 if self.area_cm2 else None,
            "terminal_density_per_cm2": terminal / self.area_cm2 if self.area_cm2 else None,
        }


class MatchedChange(models.Model):
    """Hair-to-hair change of a target site between two analysed trichoscopy images.

    Computed by a job after a follow-up image's analysis (``services.trichoscopy_match``):
    the follow-up is matched to its site's baseline image and to the previous visit's image
    (``anagen.trichometry.matched_change``). The two images' own counts stay on their records;
    this row holds only what the matching adds. Never edited by hand.
    """

    class Reference(models.TextChoices):
        BASELINE = "baseline", "Baseline"
        PREVIOUS = "previous", "Previous visit"

    class Status(models.TextChoices):
        MATCHED = "matched", "Matched"
        FAILED = "failed", "Could not be matched"

    followup = models.ForeignKey(
        TrichoscopyImage, on_delete=models.CASCADE, related_name="matched_changes"
    )
    reference = models.ForeignKey(TrichoscopyImage, on_delete=models.CASCADE, related_name="+")
    reference_kind = models.CharField(max_length=10, choices=Reference.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    error = models.CharField(max_length=500, blank=True)  # clinic words
    persisting = models.PositiveIntegerField(null=True)
    lost = models.PositiveIntegerField(null=True)
    new = models.PositiveIntegerField(null=True)
    baseline_count = models.PositiveIntegerField("count at the earlier image", null=True)
    followup_count = models.PositiveIntegerField("count at the follow-up", null=True)
    count_change = models.IntegerField(null=True)
    common_area_cm2 = models.FloatField(null=True)
    density_change_per_cm2 = models.FloatField(null=True)
    dx_px = models.FloatField(null=True)
    dy_px = models.FloatField(null=True)
    rotation_deg = models.FloatField(null=True)
    residual_px = models.FloatField(null=True)
    overlap_fraction = models.FloatField(null=True)
    quality_ok = models.BooleanField(null=True)
    result = models.JSONField(null=True)
    overlay = models.ImageField(upload_to="matched/", blank=True)
    algorithm_version = models.CharField(max_length=80, blank=True)
    computed_at = ClockDateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["followup", "reference_kind"], name="one_matched_change_per_reference"
            )
        ]
        ordering = ["followup_id", "reference_kind"]

    def __str__(self) -> str:
        return f"Matched change of image #{self.followup_id} against #{self.reference_id}"
