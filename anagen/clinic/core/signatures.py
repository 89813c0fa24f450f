"""Sign a record and check later that the signature still covers what is stored."""

from __future__ import annotations

import hashlib
import json

from django.contrib.contenttypes.models import ContentType
from django.db import models

from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.passwords import password_confirm

from .models import Signature


def record_digest(record: models.Model) -> str:
    """SHA-256 over the record's signed fields (``SIGNED_FIELDS``, else every concrete field)."""
    names = getattr(record, "SIGNED_FIELDS", None) or [
        f.attname for f in record._meta.concrete_fields
    ]
    payload = {name: getattr(record, name) for name in names}
    canonical = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def signature_sign(
    *, actor: User, record: models.Model, meaning: str, password: str | None
) -> Signature:
    """Sign ``record`` as ``actor``; the password is asked again at each signing (Part 11)."""
    # Counts towards the signer's login lockout; callers decorate with counts_password_failures.
    password_confirm(actor, password, purpose="the signature")
    latest = record.history.order_by("-history_id").first() if hasattr(record, "history") else None
    return Signature.objects.create(
        signer=actor,
        signer_name=actor.display_name,
        meaning=meaning,
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        record_digest=record_digest(record),
        record_version=latest.history_id if latest else None,
    )


def signatures_for(record: models.Model):
    return Signature.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk
    ).select_related("signer")


def current_signature(record: models.Model, meaning: str) -> Signature | None:
    """The latest signature of ``meaning`` if it still matches the record, else None."""
    signature = signatures_for(record).filter(meaning=meaning).order_by("-signed_at", "-pk").first()
    if signature is None or signature.record_digest != record_digest(record):
        return None
    return signature
