from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from .mfa import has_totp, must_enrol
from .policy import GUARDED_NAMESPACES, PAGES, PUBLIC, refusal_logged


class RoleAccessMiddleware:
    """Enforce ``policy.PAGES`` on every clinic view; deny what the table does not name."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or match.namespace not in GUARDED_NAMESPACES:
            return None
        name = match.view_name
        if name in PUBLIC:
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        page = PAGES.get(name)
        if page is None or not page.allows(request.user, request.method):
            refusal_logged(request.user, f"{request.method} {name}")
            raise PermissionDenied("Your role does not give access to this page.")
        return None


class RequireMfaMiddleware:
    """Send staff who must use TOTP (``mfa.must_enrol``) to enrolment until they have it.

    Covers the clinic pages and the admin; allauth's own pages (enrolment, logout) and the
    admin's logout stay reachable.
    """

    NAMESPACES = GUARDED_NAMESPACES | {"admin"}
    EXEMPT = frozenset({"admin:logout"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if (
            match is None
            or match.namespace not in self.NAMESPACES
            or match.view_name in self.EXEMPT
        ):
            return None
        if must_enrol(request.user) and not has_totp(request.user):
            return redirect("mfa_activate_totp")
        return None
