"""Production settings never run jobs eagerly: a broker is required, or the site refuses to start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = "from anagen.clinic.settings import production as s; print(s.CELERY_TASK_ALWAYS_EAGER)"


def _import_production(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,  # this checkout's anagen package, whatever is installed
        env={
            **clean,
            "DJANGO_SECRET_KEY": "x" * 50,
            "ANAGEN_SIGNATURE_KEYS": "k1:" + "y" * 40,
            "ANAGEN_EXPORT_KEY": "z" * 40,
            "DJANGO_ALLOWED_HOSTS": "clinic.example.org",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_with_a_broker_is_not_eager():
    done = _import_production(CELERY_BROKER_URL="redis://127.0.0.1:6379/0")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("broker", [None, "", "memory://"])
def test_production_without_a_real_broker_refuses_to_start(broker):
    done = _import_production(**({} if broker is None else {"CELERY_BROKER_URL": broker}))
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "CELERY_BROKER_URL" in done.stderr


@pytest.mark.parametrize("key", [None, "", "short"])
def test_production_without_an_export_key_refuses_to_start(key):
    env = {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/0", "ANAGEN_EXPORT_KEY": key or ""}
    if key is None:
        env["ANAGEN_EXPORT_KEY"] = ""
    done = _import_production(**env)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "ANAGEN_EXPORT_KEY" in done.stderr


def _deploy_env(**extra) -> dict[str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CELERY_", "DJANGO_", "ANAGEN_", "EMAIL_"))
    }
    return {
        **clean,
        "DJANGO_SETTINGS_MODULE": "anagen.clinic.settings.production",
        "DJANGO_SECRET_KEY": "k" * 20 + "-Zq8#pL2vX!mN4wR7tY0uI3oP6aS9dF",
        "ANAGEN_SIGNATURE_KEYS": "k1:" + "y" * 40,
        "ANAGEN_EXPORT_KEY": "z" * 40,
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "DJANGO_ALLOWED_HOSTS": "clinic.example.org",
        "EMAIL_HOST": "smtp.example.org",
        **extra,
    }


def test_check_deploy_is_clean_under_production_settings():
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_deploy_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_check_deploy_flags_plain_http():
    # The loopback switch of `make prod` is visible to `check --deploy`, never silent.
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_deploy_env(ANAGEN_HTTPS="false"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "security.W008" in done.stderr + done.stdout


SETTINGS_PROBE = (
    "from anagen.clinic.settings import production as s;"
    "print(s.EMAIL_BACKEND, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_PROXY_SSL_HEADER,"
    " s.AUTH_PASSWORD_VALIDATORS[1]['OPTIONS']['min_length'], s.ANAGEN_TRUSTED_PROXIES,"
    " 'whitenoise.middleware.WhiteNoiseMiddleware' in s.MIDDLEWARE)"
)


def test_production_defaults_are_the_secure_ones():
    done = subprocess.run(
        [sys.executable, "-c", SETTINGS_PROBE],
        cwd=ROOT,
        env=_deploy_env(ANAGEN_TRUSTED_PROXIES="10.0.0.5"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "django.core.mail.backends.smtp.EmailBackend",
        "True",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "12",
        "10.0.0.5",
        "True",
    ]


@pytest.mark.parametrize("backend", ["console", "filebased", "locmem"])
def test_production_refuses_a_mail_backend_that_prints_or_keeps_mail(backend):
    done = subprocess.run(
        [sys.executable, "-c", SETTINGS_PROBE],
        cwd=ROOT,
        env=_deploy_env(EMAIL_BACKEND=f"django.core.mail.backends.{backend}.EmailBackend"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "EMAIL_BACKEND" in done.stderr
