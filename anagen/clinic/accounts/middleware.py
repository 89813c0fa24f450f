from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

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
    """Send physicians and lab technicians to TOTP enrolment when the clinic requires MFA."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.ANAGEN_REQUIRE_MFA or not request.user.is_authenticated:
            return None
        if request.user.role not in settings.ANAGEN_MFA_ROLES:
            return None
        match = request.resolver_match
        if match is None or match.namespace not in GUARDED_NAMESPACES:
            return None  # allauth's own pages (enrolment, logout) stay reachable
        from allauth.mfa.models import Authenticator

        if not Authenticator.objects.filter(
            user=request.user, type=Authenticator.Type.TOTP
        ).exists():
            return redirect("mfa_activate_totp")
        return None
