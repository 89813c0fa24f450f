"""The admin signs in only through allauth, with the same second factor as the clinic pages."""

from __future__ import annotations

import importlib
import time

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.test import override_settings
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from tests.clinic.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

ADMIN = "/admin/"
LOGIN = reverse("account_login")


@pytest.fixture
def superuser(site):
    return make_user(
        Role.ADMINISTRATOR, site, email="root@example.test", is_staff=True, is_superuser=True
    )


def enrol(user) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // mfa_settings.TOTP_PERIOD))


def signed_in_to_admin(client) -> bool:
    return client.get(ADMIN).status_code == 200


def test_admin_login_sends_to_allauth_login_with_next(client):
    response = client.get("/admin/login/?next=/admin/treatment/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/admin/treatment/"
    # An off-site next is dropped.
    response = client.get("/admin/login/?next=https://evil.example/")
    assert response["Location"] == f"{LOGIN}?next=/admin/"


def test_admin_password_form_no_longer_signs_in(client, superuser):
    """The attack: posting the password to Django's admin login skipped TOTP."""
    enrol(superuser)
    response = client.post(
        "/admin/login/?next=/admin/", {"username": superuser.username, "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert not signed_in_to_admin(client)
    assert "_auth_user_id" not in client.session


def test_admin_with_totp_gets_in_only_after_the_code(client, superuser):
    secret = enrol(superuser)
    response = client.post(
        f"{LOGIN}?next={ADMIN}", {"login": superuser.email, "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    assert not signed_in_to_admin(client)  # the password alone is not enough
    response = client.post(reverse("mfa_authenticate"), {"code": current_code(secret)})
    assert response.status_code == 302 and response["Location"] == ADMIN
    assert signed_in_to_admin(client)


def test_session_without_the_second_factor_is_refused_and_signed_out(client, superuser):
    """A session opened before TOTP was enrolled (or by any route but allauth's MFA stage)."""
    client.force_login(superuser)
    assert signed_in_to_admin(client)  # no second factor yet: allowed (MFA not required here)
    enrol(superuser)
    response = client.get(ADMIN)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    response = client.get(response["Location"])
    assert response.status_code == 302 and response["Location"] == f"{LOGIN}?next={ADMIN}"
    assert "_auth_user_id" not in client.session  # signed out: sign in again with the code
    assert client.get(reverse("intake:home")).status_code == 302


def test_demo_admin_without_mfa_signs_in_with_password(client, superuser):
    """ANAGEN_REQUIRE_MFA is off in local settings: the demo needs no authenticator."""
    response = client.post(
        f"{LOGIN}?next={ADMIN}", {"login": superuser.email, "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == ADMIN
    assert signed_in_to_admin(client)


def test_signed_in_non_staff_is_refused_not_looped(client, staff):
    client.force_login(staff[Role.NURSE])
    assert client.get(ADMIN)["Location"].startswith("/admin/login/")
    assert client.get("/admin/login/?next=/admin/").status_code == 403


@override_settings(ANAGEN_REQUIRE_MFA=True)
def test_admin_without_totp_is_sent_to_enrolment(client, superuser):
    client.force_login(superuser)
    for url in (ADMIN, "/admin/treatment/consenttext/", reverse("intake:home")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")


@override_settings(ANAGEN_REQUIRE_MFA=True)
def test_staff_flag_alone_requires_mfa_for_the_admin(client, site):
    nurse_with_admin = make_user(Role.NURSE, site, email="n@example.test", is_staff=True)
    client.force_login(nurse_with_admin)
    assert client.get(ADMIN)["Location"] == reverse("mfa_activate_totp")


def test_production_requires_mfa_by_default(monkeypatch):
    monkeypatch.setenv("DJANGO_SECRET_KEY", "x" * 50)
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("ANAGEN_SIGNATURE_KEYS", "k1:" + "y" * 40)
    monkeypatch.setenv("ANAGEN_EXPORT_KEY", "z" * 40)
    monkeypatch.delenv("ANAGEN_REQUIRE_MFA", raising=False)
    production = importlib.import_module("anagen.clinic.settings.production")
    production = importlib.reload(production)
    assert production.ANAGEN_REQUIRE_MFA is True
    assert {"physician", "lab_technician", "administrator", "auditor"} <= set(
        production.ANAGEN_MFA_ROLES
    )
    # The demo (local settings, which take base's default) stays usable without MFA.
    base = importlib.import_module("anagen.clinic.settings.base")
    assert importlib.reload(base).ANAGEN_REQUIRE_MFA is False
