"""Blinded photographic review: before/after pairs of one standardized view, and their scores.

A pair is a patient's baseline photo and a later photo of the same view (``GlobalPhoto.view``),
shown side by side in a random order that is drawn once and stored (``after_on_right``). The
reviewer reaches the photos only through the pair's opaque ``token``: no name, date, visit or
file name. Scores are append-only (the database refuses UPDATE and DELETE), one per reviewer
and pair, with the reviewer and the time.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from anagen.clinic.common.clock import ClockDateTimeField
from anagen.clinic.imaging.models import GlobalPhoto
from anagen.clinic.patients.models import Patient


def new_token() -> str:
    return secrets.token_urlsafe(24)


class ReviewPair(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    view = models.CharField(max_length=8, choices=GlobalPhoto.View.choices)
    before = models.ForeignKey(GlobalPhoto, on_delete=models.PROTECT, related_name="+")
    after = models.ForeignKey(GlobalPhoto, on_delete=models.PROTECT, related_name="+")
    after_on_right = models.BooleanField(help_text="Drawn at random once, when the pair is made.")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = ClockDateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["before", "after"], name="one_pair_per_photos")
        ]

    def __str__(self) -> str:
        return f"Review pair #{self.pk}"


class ReviewScore(models.Model):
    """One reviewer's score of one pair. Append-only."""

    pair = models.ForeignKey(ReviewPair, on_delete=models.PROTECT, related_name="scores")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    right_vs_left = models.SmallIntegerField(
        "answer: right image compared with the left",
        validators=[MinValueValidator(-3), MaxValueValidator(3)],
    )
    after_vs_before = models.SmallIntegerField(
        "later photo compared with baseline",
        validators=[MinValueValidator(-3), MaxValueValidator(3)],
    )
    scored_at = ClockDateTimeField(auto_now_add=True)
    history = HistoricalRecords()
    audit_patient_path = "pair__patient"

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["pair", "reviewer"], name="one_score_per_reviewer")
        ]

    def __str__(self) -> str:
        return f"Score of pair #{self.pair_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Review scores are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("Review scores are append-only.")
