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
