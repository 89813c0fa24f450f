"""Electronic signatures, bound to the exact version of the record they sign.

A signature stores the signer's printed name, the time and the meaning of the signature
(21 CFR Part 11 §11.50) together with an HMAC-SHA256, under a server key, of that manifest and
the signed record's fields (``audit.signatures``). When the record changes afterwards the HMAC no
longer matches: the signature is shown as stale and the step that needed it must be signed again.
Without the key nobody can compute a matching value, so a row edited or inserted by hand does not
verify. Signatures are never edited or deleted: the database refuses it (``common.append_only``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from anagen.clinic.common import clock


class Signature(models.Model):
    class Meaning(models.TextChoices):
        # Only what the clinic signs today. The patient's consent is a Consent record (signed
        # name, witness, PDF snapshot), not a Signature; add a meaning when a step signs one.
        RELEASE = "release", "Released: the product meets every release criterion"
        VERIFY = "verify", "Second-person verification of identity"

    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signer_name = models.CharField(max_length=200)
    meaning = models.CharField(max_length=16, choices=Meaning.choices)
    # Set before saving (not auto_now_add) because the HMAC covers it.
    signed_at = models.DateTimeField(default=clock.now, editable=False)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    record_digest = models.CharField(
        max_length=64,
        help_text="HMAC-SHA256 (hex) of the signature and the signed fields; "
        "plain SHA-256 of the fields for legacy signatures",
    )
    key_id = models.CharField(
        max_length=32,
        blank=True,
        default="",
        help_text="Id of the server key in ANAGEN_SIGNATURE_KEYS; empty: legacy unkeyed digest",
    )
    record_version = models.PositiveBigIntegerField(
        null=True, help_text="history_id of the record version that was signed"
    )

    class Meta:
        ordering = ["signed_at"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return (
            f"{self.signer_name}: {self.get_meaning_display()} at {self.signed_at:%Y-%m-%d %H:%M}"
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Signatures are append-only and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("Signatures are append-only and cannot be deleted.")

    @property
    def is_legacy(self) -> bool:
        """Signed before signatures were keyed: a plain SHA-256 that anyone could recompute."""
        return self.key_id == ""
