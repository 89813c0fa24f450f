"""Every URL of the project, whatever its namespace, refuses anonymous users unless it is public.

The URL list is read from the resolver (the clinic, allauth, the admin, the API), so a page added
anywhere is walked automatically; ``PUBLIC_ANYWHERE`` is the short, reviewed list of pages a
person who is not signed in may open (the consultation request and the sign-in flow).
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

#: URL names anyone may open without signing in, and why.
PUBLIC_ANYWHERE = {
    "intake:request": "the public consultation request form",
    "intake:request_thanks": "its thank-you page",
    "fhir:metadata": "the FHIR CapabilityStatement (clients discover the server before sign-in)",
    "account_login": "signing in",
    "account_signup": "closed: answers with the 'sign-up closed' page",
    "account_inactive": "tells a deactivated user why sign-in failed",
    "account_reset_password": "password reset by e-mail",
    "account_reset_password_done": "password reset by e-mail",
    "account_reset_password_from_key": "password reset by e-mail (the key is the secret)",
    "account_reset_password_from_key_done": "password reset by e-mail",
    "account_confirm_email": "e-mail confirmation link (the key is the secret)",
    "account_email_verification_sent": "e-mail confirmation notice",
    "account_confirm_login_code": "login-code stage of a sign-in in progress",
    "mfa_authenticate": "second-factor stage of a sign-in in progress",
    "admin:login": "sends to the clinic's own sign-in (with MFA)",
    "admin:logout": "signing out: shows nothing, sends to the admin's sign-in",
    "admin:jsi18n": "the admin's translation catalogue (static text, no records)",
    "health": "health check for the load balancer: 'ok' or 'database unavailable', nothing else",
    "health-live": "liveness check: 'ok', touches nothing",
}

_PARAM = re.compile(r"<(?:\w+:)?\w+>|\(\?P<\w+>[^)]*\)|\([^)]*\)")


def every_url() -> list[tuple[str, str]]:
    """(name, a concrete path) for every pattern of the project, parameters filled with 1."""
    found = []

    def walk(patterns, prefix: str, namespace: str | None):
        for pattern in patterns:
            route = str(pattern.pattern).lstrip("^").rstrip("$")
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + route, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name or ""
                found.append((name, "/" + _PARAM.sub("1", prefix + route)))

    walk(get_resolver().url_patterns, "", None)
    return found


def refused(response) -> bool:
    if response.status_code in (401, 403, 405):
        return True
    location = response.get("Location", "")
    # The admin's own login page sends on to the clinic's sign-in with MFA (tested in the admin
    # tests), so a redirect there is a refusal too.
    return response.status_code == 302 and (
        location.startswith("/accounts/login/") or location.startswith("/admin/login/")
    )


def test_the_walk_reaches_every_part_of_the_project():
    names = {name for name, _ in every_url()}
    for expected in (
        "intake:home",
        "treatment:session",
        "admin:index",
        "account_email",
        "api-docs",
    ):
        assert expected in names


@pytest.mark.parametrize("method", ["get", "post"])
def test_every_url_outside_the_public_list_refuses_anonymous_users(client, method):
    leaks = []
    for name, path in every_url():
        if name in PUBLIC_ANYWHERE:
            continue
        response = getattr(client, method)(path)
        if response.status_code == 404 and "/admin/" in path:
            continue  # an admin URL of a model without that view (e.g. no add page)
        if not refused(response):
            leaks.append((name, path, response.status_code, response.get("Location", "")))
    assert not leaks, leaks
