"""Sign a record and check later that the signature still covers what is stored.

A signature's ``record_digest`` is an HMAC-SHA256, under a server key that the database does not
hold (``settings.ANAGEN_SIGNATURE_KEYS``), over the signature's manifest (record type and id,
signer, meaning, time) and the record's signed fields. Someone with database access alone can
neither recompute it after changing the record nor forge a signature row. The key id is stored
on the signature, so rotating keys leaves older signatures verifiable while the old key is kept;
removing a key makes its signatures no longer current. Rotation: docs/security.md.

Signatures made before keying (``key_id == ""``) hold a plain SHA-256 of the record's fields.
They still verify that way (a released product stays released), are flagged as legacy on the
audit trail, and stop counting once ``ANAGEN_SIGNATURE_ACCEPT_LEGACY`` is false.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import QuerySet

from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.passwords import password_confirm
from anagen.clinic.common import clock

from .models import Signature


def _record_payload(record: models.Model) -> dict[str, Any]:
    """The record's signed fields (``SIGNED_FIELDS``, else every concrete field)."""
    names = getattr(record, "SIGNED_FIELDS", None) or [
        f.attname for f in record._meta.concrete_fields
    ]
    return {name: getattr(record, name) for name in names}


def _stable(value: Any) -> Any:
    """One text per stored value, so a record verifies the same in memory and from the database.

    Aware datetimes in UTC (an in-memory local time would otherwise differ from the value read
    back), Decimals without trailing zeros (``Decimal("2")`` is stored and read as ``2.000``).
    """
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, default=str, separators=(",", ":")).encode()


def record_digest(record: models.Model) -> str:
    """Legacy, unkeyed SHA-256 over the record's signed fields (signatures with no key id).

    Kept byte for byte as it was, so that legacy signatures still verify as before.
    """
    return hashlib.sha256(_canonical(_record_payload(record))).hexdigest()


def _signing_key(key_id: str) -> bytes | None:
    secret = settings.ANAGEN_SIGNATURE_KEYS.get(key_id)
    return secret.encode() if secret else None


def _manifest(signature: Signature, record: models.Model) -> dict[str, Any]:
    return {
        "key_id": signature.key_id,
        "content_type": f"{record._meta.app_label}.{record._meta.model_name}",
        "object_id": record.pk,
        "signer_id": signature.signer_id,
        "signer_name": signature.signer_name,
        "meaning": signature.meaning,
        "signed_at": _stable(signature.signed_at),
        "record_version": signature.record_version,
        "record": {name: _stable(value) for name, value in _record_payload(record).items()},
    }


def signature_mac(signature: Signature, record: models.Model) -> str | None:
    """HMAC-SHA256 of ``signature`` over ``record`` as stored now; None if its key is unknown."""
    key = _signing_key(signature.key_id)
    if key is None:
        return None
    return hmac.new(key, _canonical(_manifest(signature, record)), hashlib.sha256).hexdigest()


def signature_matches(signature: Signature, record: models.Model) -> bool:
    """Whether ``signature`` still covers ``record`` and was made with a key the server holds."""
    expected: str | None
    if signature.is_legacy:
        if not settings.ANAGEN_SIGNATURE_ACCEPT_LEGACY:
            return False
        expected = record_digest(record)
    else:
        expected = signature_mac(signature, record)
        if expected is None:  # key removed from ANAGEN_SIGNATURE_KEYS: no longer trusted
            return False
    return hmac.compare_digest(expected, signature.record_digest)


def signature_sign(
    *, actor: User, record: models.Model, meaning: str, password: str | None
) -> Signature:
    """Sign ``record`` as ``actor``; the password is asked again at each signing (Part 11)."""
    # Counts towards the signer's login lockout; callers decorate with counts_password_failures.
    password_confirm(actor, password, purpose="the signature")
    key_id = settings.ANAGEN_SIGNATURE_KEY_ID
    if _signing_key(key_id) is None:
        raise ImproperlyConfigured("ANAGEN_SIGNATURE_KEY_ID does not name a signature key.")
    latest = record.history.order_by("-history_id").first() if hasattr(record, "history") else None
    signature = Signature(
        signer=actor,
        signer_name=actor.display_name,
        meaning=meaning,
        signed_at=clock.now(),
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        record_version=latest.history_id if latest else None,
        key_id=key_id,
    )
    digest = signature_mac(signature, record)
    assert digest is not None, "the signing key was checked above"
    signature.record_digest = digest
    signature.save()
    return signature


def signatures_for(record: models.Model) -> QuerySet[Signature]:
    return Signature.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk
    ).select_related("signer")


def current_signature(record: models.Model, meaning: str) -> Signature | None:
    """The latest signature of ``meaning`` if it still matches the record, else None."""
    signature = signatures_for(record).filter(meaning=meaning).order_by("-signed_at", "-pk").first()
    if signature is None or not signature_matches(signature, record):
        return None
    return signature
