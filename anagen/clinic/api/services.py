"""API tokens: create (shown once) and revoke (``tokens.py`` hashes and resolves keys)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from anagen.clinic.accounts.mfa import has_totp
from anagen.clinic.accounts.models import User
from anagen.clinic.common import clock

from .error_codes import ApiErrorCode
from .models import ApiToken
from .tokens import KEY_PREFIX, MAX_DAYS, key_hash, role_permissions


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
    allowed = role_permissions(actor)
    if not allowed:
        raise PermissionDenied("Your role gives no access through the API.")
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
