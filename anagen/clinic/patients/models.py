from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from anagen.clinic.accounts.models import Site
from anagen.clinic.common.clock import ClockDateTimeField
from anagen.clinic.common.uploads import validate_image_upload


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other / not stated"


class Patient(models.Model):
    """A person treated by the clinic. The MRN is generated and never reused."""

    mrn = models.CharField("MRN", max_length=16, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="patients")
    given_name = models.CharField(max_length=80)
    family_name = models.CharField(max_length=80)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=8, choices=Sex.choices)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    photo = models.ImageField(
        upload_to="patients/photos/",
        blank=True,
        validators=[validate_image_upload],
        help_text="Shown in the chart header to confirm identity.",
    )
    created_at = ClockDateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["family_name", "given_name"]
        indexes = [models.Index(fields=["family_name", "given_name"])]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.mrn})"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class MrnSequence(models.Model):
    """One row holding the last MRN number issued (locked while issuing the next)."""

    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"MRN sequence at {self.last}"
