"""Who must use a second factor, and whether this session did (allauth.mfa's own records)."""

from __future__ import annotations

from django.conf import settings


def must_enrol(user) -> bool:
    """Whether ``user`` must have TOTP before using the clinic or the admin.

    Clinically sensitive roles (``ANAGEN_MFA_ROLES``) and anyone who can reach the admin
    (staff or superuser, whatever their role): the admin edits staff accounts and sites.
    """
    if not settings.ANAGEN_REQUIRE_MFA or not user.is_authenticated:
        return False
    return user.role in settings.ANAGEN_MFA_ROLES or user.is_staff or user.is_superuser


def has_totp(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def second_factor_done(request) -> bool:
    """Whether this session passed allauth's MFA stage, if the user has a second factor at all.

    allauth records each step of a sign-in in the session ("password", then "mfa"); a session
    opened any other way (or before TOTP was enrolled) has no "mfa" record.
    """
    from allauth.account.authentication import get_authentication_records
    from allauth.mfa.models import Authenticator
    from allauth.mfa.utils import is_mfa_enabled

    user = request.user
    if not is_mfa_enabled(user, [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]):
        return True
    records = get_authentication_records(request, user)
    return any(record.get("method") == "mfa" for record in records)
