"""Request-level safeguards (common.security, accounts.client_ip, common.storage, settings).

Client address behind a trusted proxy (lockout and rate limits), 413 by Content-Length before
the body is read, ``Cache-Control: no-store`` on clinical pages and files, idle sign-out, the
Content-Security-Policy, the password length, random stored file names.
"""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from anagen.clinic.accounts.client_ip import client_ip, rate_limit_ip, trusted_networks
from anagen.clinic.accounts.roles import Role
from anagen.clinic.common import security
from tests.clinic.factories import PASSWORD

pytestmark = pytest.mark.django_db

PROXY = "10.9.0.2"


def _request(remote: str | None, forwarded: str | None = None):
    request = RequestFactory().get("/")
    if remote is None:
        del request.META["REMOTE_ADDR"]
    else:
        request.META["REMOTE_ADDR"] = remote
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        ("", "203.0.113.5", "198.51.100.1", "203.0.113.5"),  # no proxy configured: header ignored
        (PROXY, "203.0.113.5", "198.51.100.1", "203.0.113.5"),  # not from the proxy: ignored
        (PROXY, PROXY, "198.51.100.1", "198.51.100.1"),
        (PROXY, PROXY, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # client-sent hop not believed
        ("10.9.0.0/16", PROXY, "198.51.100.1, 10.9.0.7", "198.51.100.1"),  # two proxies
        (PROXY, PROXY, "", PROXY),
        (PROXY, PROXY, "garbage, 10.9.0.2", PROXY),
        (PROXY, None, "198.51.100.1", None),
    ],
)
def test_client_ip_believes_only_trusted_proxies(settings, trusted, remote, forwarded, expected):
    settings.ANAGEN_TRUSTED_PROXIES = trusted
    assert client_ip(_request(remote, forwarded)) == expected
    assert rate_limit_ip(_request(remote, forwarded)) == (expected or "0.0.0.0")  # noqa: S104


def test_a_bad_trusted_proxy_entry_is_a_clear_error():
    with pytest.raises(ValueError, match="'nope' is not an IP address"):
        trusted_networks("127.0.0.1, nope")


def _login(client, email, password, forwarded):
    return client.post(
        reverse("account_login"),
        {"login": email, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_lockout_behind_the_proxy_counts_each_client_not_the_proxy(client, settings, staff):
    settings.ANAGEN_TRUSTED_PROXIES = PROXY
    # allauth's own limit per login name (5 failures in 5 minutes, from anywhere) would refuse
    # the second workstation too; this test is about the address the lockout counts.
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip"}
    nurse = staff[Role.NURSE]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, nurse.email, "wrong-password-here", "198.51.100.1")
    locked = _login(client, nurse.email, PASSWORD, "198.51.100.1")
    assert locked.status_code == 429 or "Too many failed" in locked.content.decode()
    assert client.get(reverse("intake:home")).status_code != 200
    # The same proxy, another workstation (its own browser): the nurse signs in there.
    other = _login(Client(), nurse.email, PASSWORD, "198.51.100.2")
    assert other.status_code == 302, other.status_code


class _Unreadable(io.RawIOBase):
    def read(self, *args):  # pragma: no cover - reaching it is the failure
        raise AssertionError("the body was read")

    readinto = read


def test_an_oversized_request_is_refused_by_its_declared_size_before_the_body_is_read(settings):
    settings.ANAGEN_MAX_REQUEST_BYTES = 1000
    request = RequestFactory().post("/patients/new/")
    request.META["CONTENT_LENGTH"] = str(150 * 1024 * 1024)
    request.META["wsgi.input"] = _Unreadable()
    reached = []
    middleware = security.RequestSizeLimitMiddleware(lambda r: reached.append(r) or HttpResponse())
    response = middleware(request)
    assert response.status_code == 413 and not reached
    assert "too large" in response.content.decode()
    # No hop-by-hop header: WSGI servers (Django's runserver) turn one into a 500.
    from wsgiref.util import is_hop_by_hop

    assert not [name for name in response.headers if is_hop_by_hop(name)]
    request.META["CONTENT_LENGTH"] = "1000"
    assert middleware(request).status_code == 200 and reached
    request.META["CONTENT_LENGTH"] = "12x"
    assert middleware(request).status_code == 400


def test_the_limit_sits_above_one_allowed_upload_and_runs_first(settings):
    assert settings.ANAGEN_MAX_REQUEST_BYTES > settings.ANAGEN_MAX_UPLOAD_BYTES
    assert settings.MIDDLEWARE[0] == "anagen.clinic.common.security.RequestSizeLimitMiddleware"


def test_clinical_pages_and_files_are_never_cached(client, staff, patient):
    client.force_login(staff[Role.PHYSICIAN])
    chart = client.get(reverse("patients:chart", args=[patient.pk]))
    assert chart.status_code == 200 and chart["Cache-Control"] == "no-store"
    client.force_login(staff[Role.AUDITOR])
    csv = client.get(reverse("audit:patient", args=[patient.pk]), {"format": "csv"})
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert csv["Cache-Control"] == "no-store"


def test_an_idle_session_is_signed_out(client, staff, patient, monkeypatch, settings):
    settings.ANAGEN_IDLE_TIMEOUT_MINUTES = 30
    client.force_login(staff[Role.PHYSICIAN])
    chart = reverse("patients:chart", args=[patient.pk])
    now = 1_800_000_000
    monkeypatch.setattr(security.time, "time", lambda: now)
    assert client.get(chart).status_code == 200
    now += 29 * 60  # still active: each request moves the mark
    assert client.get(chart).status_code == 200
    now += 29 * 60
    assert client.get(chart).status_code == 200
    now += 31 * 60
    idle = client.get(chart)
    assert idle.status_code == 302 and idle["Location"].startswith(reverse("account_login"))


def test_the_content_security_policy_forbids_inline_script(client, staff):
    client.force_login(staff[Role.PHYSICIAN])
    page = client.get(reverse("intake:home"))
    policy = page["Content-Security-Policy"]
    assert "script-src 'self';" in policy + ";"
    assert "'unsafe-inline'" not in re.search(r"script-src[^;]*", policy).group(0)
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.content.decode())
    assert " on" + "click=" not in page.content.decode()


def test_the_error_page_style_is_allowed_by_its_hash(settings):
    import base64
    import hashlib

    from django.template.loader import render_to_string

    for page in ("500.html", "503.html"):
        html = render_to_string(page)
        block = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
        digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
        allowed = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src"]
        assert f"'sha256-{digest}'" in allowed, page


def test_passwords_need_twelve_characters():
    with pytest.raises(ValidationError, match="at least 12"):
        validate_password("Qz7!rb2#Lm4")  # 11
    validate_password("Qz7!rb2#Lm4x")


def test_stored_file_names_carry_nothing_of_the_upload_name():
    name = default_storage.save(
        "photos/Rook_Ann_MRN-000123.JPG", ContentFile(b"\xff\xd8\xff\xe0 not really a jpeg")
    )
    try:
        assert re.fullmatch(r"photos/[0-9a-f]{32}\.jpg", name), name
        assert "Rook" not in name and "000123" not in name
    finally:
        default_storage.delete(name)
    odd = default_storage.save("consents/x.pdf;rm -rf", ContentFile(b"%PDF"))
    try:
        assert re.fullmatch(r"consents/[0-9a-f]{32}", odd), odd
    finally:
        default_storage.delete(odd)


def test_allauth_counts_the_same_client_address(settings):
    from allauth.account.adapter import get_adapter

    settings.ANAGEN_TRUSTED_PROXIES = PROXY
    assert get_adapter().get_client_ip(_request(PROXY, "198.51.100.9")) == "198.51.100.9"
