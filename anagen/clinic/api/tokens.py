"""API keys: their stored form, what a token may carry, and resolving a presented key."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from anagen.clinic.accounts.mfa import has_totp
from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import Perm, allows
from anagen.clinic.common import clock

from .models import ApiToken

#: Every key starts so (a leaked key is easy to recognise in a scanner or a log).
KEY_PREFIX = "ank_"
MAX_DAYS = 365


def key_hash(raw: str) -> str:
    """The stored form of a key: its SHA-256 (keys are 256 random bits; no salt is needed)."""
    return hashlib.sha256(raw.encode()).hexdigest()


def role_permissions(user: User) -> list[str]:
    """The permissions a token of ``user`` may carry: exactly what their role allows now."""
    return sorted(p.value for p in Perm if allows(user, p))


def token_resolve(raw: str) -> ApiToken | None:
    """The active token for a presented key (None if unknown, expired or revoked), its use noted.

    A holder who no longer has the authenticator app enrolled, or who was deactivated, gets
    nothing through the token either.
    """
    if not raw.startswith(KEY_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=key_hash(raw)).first()
    if token is None or not token.active or not token.user.is_active or not has_totp(token.user):
        return None
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
