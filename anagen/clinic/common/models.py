"""The one table of the shared layer: form submissions already saved (``common.forms.submit_once``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from anagen.clinic.common.clock import ClockDateTimeField


class SubmittedForm(models.Model):
    """One row per create form submitted: a replayed token (back + resubmit, double click)
    finds its row and is sent to the first result instead of saving a second time.

    The row is inserted in the same transaction as the write it guards, so either both exist
    or neither does (``common.forms.submit_once``).
    """

    token = models.UUIDField(unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = ClockDateTimeField(auto_now_add=True)
    result_url = models.CharField(max_length=500)

    def __str__(self) -> str:
        return f"Form {self.token} → {self.result_url}"
