from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from anagen.clinic.accounts.models import Site
from anagen.clinic.common.clock import ClockDateTimeField
from anagen.clinic.common.dates import local_time
from anagen.clinic.patients.models import Patient


class Inquiry(models.Model):
    """A consultation request from the public page, worked by the coordinators."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        CALLED_BACK = "called_back", "Called back"
        BOOKED = "booked", "Booked"
        CLOSED = "closed", "Closed"

    full_name = models.CharField(max_length=160)
    phone = models.CharField(max_length=32)
    email = models.EmailField(blank=True)
    preferred_site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="inquiries")
    preferred_time = models.CharField("best time to call", max_length=80, blank=True)
    message = models.TextField(blank=True, max_length=2000)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="inquiries"
    )
    received_at = ClockDateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-received_at"]
        verbose_name_plural = "inquiries"

    def __str__(self) -> str:
        return f"Inquiry #{self.pk} ({self.get_status_display()})"


class InquiryNote(models.Model):
    """A call-back note; notes are only ever added, never edited."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=4000)
    written_at = ClockDateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["written_at"]

    def __str__(self) -> str:
        return f"Note on inquiry #{self.inquiry_id}"


class Appointment(models.Model):
    class Kind(models.TextChoices):
        CONSULT = "consult", "Consultation"
        HARVEST_SESSION = "harvest_session", "Harvest + injection session"
        REPEAT_SESSION = "repeat_session", "Repeat session"
        FOLLOW_UP = "follow_up", "Follow-up"

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        ARRIVED = "arrived", "Arrived"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "Did not attend"

    #: Statuses that keep the clinician's time blocked.
    ACTIVE = (Status.BOOKED, Status.ARRIVED, Status.COMPLETED)
    # keyed by the Kind members, which are the str values services look up by
    DEFAULT_MINUTES: ClassVar[dict[str, int]] = {
        Kind.CONSULT: 45,
        Kind.HARVEST_SESSION: 120,
        Kind.REPEAT_SESSION: 90,
        Kind.FOLLOW_UP: 30,
    }

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="appointments")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField()
    ends_at = models.DateTimeField(editable=False)
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BOOKED)
    notes = models.TextField(blank=True, max_length=2000)
    #: Why an appointment was entered after its start (a visit recorded late); empty otherwise.
    back_entry_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["clinician", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {local_time(self.starts_at)}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.ends_at = self.starts_at + timedelta(minutes=self.duration_minutes)
        super().save(*args, **kwargs)


class ReminderSent(models.Model):
    """One row per reminder sent; the unique constraint makes sending idempotent."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=16, default="email_48h")
    sent_at = ClockDateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["appointment", "kind"], name="one_reminder_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} for appointment #{self.appointment_id}"
