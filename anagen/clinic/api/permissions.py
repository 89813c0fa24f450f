"""The API's one access check: it asks ``accounts.policy`` (and the token's scopes).

Every view declares ``perms``: the ``Perm`` each of its actions needs (``list``, ``retrieve``,
``create``, ``partial_update`` and each custom action). An action the map does not name is
refused, so a new endpoint is closed until it says what it needs. Site scoping is the
querysets' (``accounts.access.sites_for``) and the services' own.
"""

from __future__ import annotations

from rest_framework import exceptions, permissions

from anagen.clinic.accounts.mfa import has_totp, must_enrol
from anagen.clinic.accounts.policy import Perm, allows, refusal_logged

from .error_codes import ApiErrorCode
from .models import ApiToken


class Refused(exceptions.PermissionDenied):
    def __init__(self, message: str, code: ApiErrorCode):
        super().__init__(message, code=code)


def required_perm(view) -> Perm | None:
    action = getattr(view, "action", None)
    if action is None and view.request is not None and view.request.method == "OPTIONS":
        action = "metadata"
    return getattr(view, "perms", {}).get(action) if action else None


class PolicyPermission(permissions.BasePermission):
    """Signed in, through a token or a session that passed MFA enrolment, holding the action's
    permission by role and (for a token) by scope."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            raise exceptions.NotAuthenticated()
        if getattr(view, "action", None) == "metadata" or request.method == "OPTIONS":
            perm = next(iter(getattr(view, "perms", {}).values()), None)
        else:
            perm = required_perm(view)
        if perm is None and getattr(view, "action", "") is None and request.method != "OPTIONS":
            return True  # a method the endpoint does not offer: DRF answers 405
        if perm is None:
            refusal_logged(user, f"api {request.method} {view.__class__.__name__}")
            raise Refused("This action is not offered.", ApiErrorCode.FORBIDDEN)
        if not isinstance(request.auth, ApiToken) and must_enrol(user) and not has_totp(user):
            raise Refused("Turn on the authenticator app first.", ApiErrorCode.MFA_REQUIRED)
        if not allows(user, perm):
            refusal_logged(user, f"api {perm}")
            raise Refused("Your role does not allow this.", ApiErrorCode.FORBIDDEN)
        if isinstance(request.auth, ApiToken) and perm.value not in request.auth.scopes:
            refusal_logged(user, f"api token scope {perm}")
            raise Refused(
                f"This token does not carry the permission '{perm.value}'.",
                ApiErrorCode.OUT_OF_SCOPE,
            )
        return True
