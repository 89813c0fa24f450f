"""API test helpers: a member of staff with TOTP enrolled and an API token, and a client."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from rest_framework.test import APIClient

from anagen.clinic.api.services import token_create


def enrol_totp(user):
    Authenticator.objects.get_or_create(
        user=user, type=Authenticator.Type.TOTP, defaults={"data": {"secret": "x"}}
    )
    return user


def token_for(user, scopes=None, days=30) -> str:
    enrol_totp(user)
    _, raw = token_create(actor=user, name="test", days=days, scopes=scopes)
    return raw


def client_for(user, scopes=None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user, scopes)}")
    return client


@pytest.fixture
def api():
    """``api(user)``: an APIClient signed in with a fresh token of ``user``."""
    return client_for
