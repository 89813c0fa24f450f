"""The admin site: signed in only through allauth, and only after its second factor.

Django's own admin login form authenticates with a password alone, which skipped TOTP. Here
``/admin/login/`` sends to allauth's login (which runs the MFA stage), and ``has_permission``
refuses a session that did not pass that stage when the user has a second factor.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .mfa import second_factor_done


class ClinicAdminSite(admin.AdminSite):
    site_header = "Anagen configuration"
    site_title = "Anagen configuration"

    def has_permission(self, request):
        return super().has_permission(request) and second_factor_done(request)

    def login(self, request, extra_context=None):
        index = reverse("admin:index", current_app=self.name)
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or index
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = index
        if request.user.is_authenticated:
            if self.has_permission(request):
                return redirect(next_url)
            if super().has_permission(request):
                # Staff, but this session never passed the second factor (opened before TOTP
                # was enrolled, or by another route): sign in again through allauth.
                logout(request)
                messages.info(request, "Sign in again with your authenticator code.")
            else:
                raise PermissionDenied("The admin is for staff with an administrator account.")
        return redirect_to_login(next_url, settings.LOGIN_URL)
