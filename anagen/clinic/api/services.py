"""API tokens: create (shown once), revoke, and resolve a presented key."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from anagen.clinic.accounts.mfa import has_totp
from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import Perm, allows
from anagen.clinic.common import clock

from .error_codes import ApiErrorCode
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


def _refusal(message: str, code: ApiErrorCode, field: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


@transaction.atomic
def token_create(
    *, actor: User, name: str, days: int, scopes: list[str] | None = None
) -> tuple[ApiToken, str]:
    """A new token for ``actor`` and its key (returned once; only the hash is kept).

    Only staff with an authenticator app enrolled may create one: a token is a way in without
    the second factor, so it is given only to someone who passed it to reach this page.
    """
    if not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied("Sign in first.")
    if not has_totp(actor):
        raise ValidationError(
            "Turn on the authenticator app before creating an API token.",
            code=ApiErrorCode.TOKEN_NEEDS_MFA,
        )
    name = name.strip()
    if not name or len(name) > 80:
        raise _refusal("Name the token (up to 80 characters).", ApiErrorCode.TOKEN_NAME, "name")
    if not 1 <= days <= MAX_DAYS:
        raise _refusal(
            f"A token lasts 1 to {MAX_DAYS} days.", ApiErrorCode.TOKEN_EXPIRY, "expires_in_days"
        )
    allowed = role_permissions(actor)
    if not allowed:
        raise PermissionDenied("Your role gives no access through the API.")
    chosen = sorted(set(scopes)) if scopes else allowed
    beyond = [s for s in chosen if s not in allowed]
    if beyond:
        raise _refusal(
            "A token can only carry permissions your role has: " + ", ".join(beyond) + ".",
            ApiErrorCode.TOKEN_SCOPE,
            "scopes",
        )
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=actor,
        name=name,
        prefix=raw[: len(KEY_PREFIX) + 6],
        key_hash=key_hash(raw),
        scopes=chosen,
        expires_at=clock.now() + timedelta(days=days),
    )
    return token, raw


@transaction.atomic
def token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """Revoke one of ``actor``'s own tokens (at once; a revoked token never works again)."""
    if token.user_id != actor.pk:
        raise PermissionDenied("You can only revoke your own tokens.")
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is None:
        locked.revoked_at = clock.now()
        locked.save(update_fields=["revoked_at"])
    return locked


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
