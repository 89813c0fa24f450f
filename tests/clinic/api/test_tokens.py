"""Per-user API tokens: only with MFA enrolled, hashed at rest, scoped to the role (or less),
expiring and revocable; shown and created on the security page."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from rest_framework.test import APIClient

from anagen.clinic.accounts.roles import Role
from anagen.clinic.api.models import ApiToken
from anagen.clinic.api.services import token_create, token_revoke
from anagen.clinic.common import clock
from tests.clinic.factories import PASSWORD
from tests.clinic.refusals import raises_code

from .conftest import enrol_totp, token_for

pytestmark = pytest.mark.django_db


def _bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_only_staff_with_totp_may_create_a_token(physician):
    with raises_code("token_needs_mfa"):
        token_create(actor=physician, name="EHR", days=30)
    assert not ApiToken.objects.exists()
    enrol_totp(physician)
    token, raw = token_create(actor=physician, name="EHR", days=30)
    assert token.user == physician and token.scopes
    assert raw.startswith("ank_") and len(raw) > 40


def test_the_key_is_kept_only_as_a_hash(physician):
    raw = token_for(physician)
    token = ApiToken.objects.get()
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    stored = " ".join(str(v) for v in ApiToken.objects.values_list().get())
    assert raw not in stored and raw[4:] not in stored


def test_a_token_works_until_revoked_or_expired(physician, patient):
    raw = token_for(physician)
    client = _bearer(raw)
    assert client.get("/api/v1/patients/").status_code == 200
    token = ApiToken.objects.get()
    assert token.last_used_at is not None
    token_revoke(actor=physician, token=token)
    refused = client.get("/api/v1/patients/")
    assert refused.status_code == 401
    assert refused.json()["code"] == "authentication_failed"
    assert refused["WWW-Authenticate"] == "Bearer"
    raw2 = token_for(physician)
    ApiToken.objects.filter(revoked_at=None).update(expires_at=clock.now() - timedelta(seconds=1))
    assert _bearer(raw2).get("/api/v1/patients/").status_code == 401
    assert _bearer("ank_not-a-real-key").get("/api/v1/patients/").status_code == 401


def test_a_token_stops_working_when_its_holder_loses_totp_or_is_deactivated(physician):
    from allauth.mfa.models import Authenticator

    raw = token_for(physician)
    Authenticator.objects.filter(user=physician).delete()
    assert _bearer(raw).get("/api/v1/patients/").status_code == 401
    enrol_totp(physician)
    assert _bearer(raw).get("/api/v1/patients/").status_code == 200
    physician.is_active = False
    physician.save()
    assert _bearer(raw).get("/api/v1/patients/").status_code == 401


def test_scopes_are_a_subset_of_the_role(staff, patient):
    physician, coordinator = staff[Role.PHYSICIAN], staff[Role.COORDINATOR]
    enrol_totp(coordinator)
    with raises_code("token_scope", "scopes"):
        token_create(actor=coordinator, name="x", days=5, scopes=["assessment_record"])
    # A read-only token of a physician cannot record an assessment.
    client = _bearer(token_for(physician, scopes=["patient_view", "assessment_view"]))
    assert client.get("/api/v1/patients/").status_code == 200
    refused = client.post(
        "/api/v1/assessments/", {"patient": patient.pk, "pattern": "thinning"}, format="json"
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "out_of_scope"
    assert client.get("/api/v1/plans/").json()["code"] == "out_of_scope"


def test_the_role_wins_over_the_tokens_scopes(staff):
    """A role that loses a permission loses it through its tokens at once."""
    physician = staff[Role.PHYSICIAN]
    client = _bearer(token_for(physician))
    assert client.get("/api/v1/plans/").status_code == 200
    physician.role = Role.RESEARCHER
    physician.save()
    assert client.get("/api/v1/plans/").status_code == 403


def test_expiry_limits_and_names(physician):
    enrol_totp(physician)
    with raises_code("token_expiry", "expires_in_days"):
        token_create(actor=physician, name="x", days=0)
    with raises_code("token_expiry", "expires_in_days"):
        token_create(actor=physician, name="x", days=366)
    with raises_code("token_name", "name"):
        token_create(actor=physician, name="  ", days=3)


def test_only_ones_own_token_can_be_revoked(staff):
    raw = token_for(staff[Role.PHYSICIAN])
    token = ApiToken.objects.get()
    with pytest.raises(PermissionDenied):
        token_revoke(actor=staff[Role.NURSE], token=token)
    assert _bearer(raw).get("/api/v1/patients/").status_code == 200


def _sign_in_with_code(client, user):
    """allauth's real sign-in: password, then the authenticator app's current code."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    code = format_hotp_value(hotp_value(secret, int(time.time()) // mfa_settings.TOTP_PERIOD))
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302


def test_the_security_page_lists_creates_and_revokes_tokens(client, physician):
    client.force_login(physician)
    page = client.get(reverse("mfa_index"))
    assert page.status_code == 200
    assert "API tokens" in page.content.decode()
    # Without TOTP the form refuses, with the reason on the page.
    refused = client.post(
        reverse("api_tokens:create"), {"name": "EHR bridge", "expires_in_days": 30}
    )
    assert refused.status_code == 200
    assert "authenticator app" in refused.content.decode()
    # TOTP enrolled, but this session never passed the code (signed in before): refused too.
    enrol_totp(physician)
    refused = client.post(
        reverse("api_tokens:create"), {"name": "EHR bridge", "expires_in_days": 30}
    )
    assert "authenticator app code" in refused.content.decode()
    assert not ApiToken.objects.exists()
    from allauth.mfa.models import Authenticator

    Authenticator.objects.filter(user=physician).delete()
    client.logout()
    _sign_in_with_code(client, physician)
    created = client.post(
        reverse("api_tokens:create"),
        {"name": "EHR bridge", "expires_in_days": 30, "scopes": ["patient_view"]},
    )
    assert created.status_code == 302
    token = ApiToken.objects.get()
    assert token.scopes == ["patient_view"]
    shown = client.get(created["Location"]).content.decode()
    key = shown.split('id="api-key" type="text" readonly value="')[1].split('"')[0]
    assert key.startswith("ank_") and token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    # Shown once only.
    assert key not in client.get(created["Location"]).content.decode()
    listed = client.get(reverse("mfa_index")).content.decode()
    assert "EHR bridge" in listed and token.prefix in listed and key not in listed
    client.post(reverse("api_tokens:revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert _bearer(key).get("/api/v1/patients/").status_code == 401


def test_session_api_use_needs_csrf_and_mfa_enrolment(settings, physician, patient):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(physician)
    assert client.get("/api/v1/patients/").status_code == 200
    refused = client.post(
        "/api/v1/assessments/", {"patient": patient.pk, "pattern": "thinning"}, format="json"
    )
    assert refused.status_code == 403 and "CSRF" in refused.json()["message"]
    settings.ANAGEN_REQUIRE_MFA = True
    needs = client.get("/api/v1/patients/")
    assert needs.status_code == 403 and needs.json()["code"] == "mfa_required"
