"""A real Celery worker on a real Redis broker runs the reminder job against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from celery import Celery
from django.db import connection

from anagen.clinic.intake.models import ReminderSent
from anagen.clinic.intake.services import appointment_book

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker():
    broker = os.environ["TEST_REDIS_URL"]
    env = {
        **os.environ,
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": broker,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "anagen.clinic.settings.test",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "anagen.clinic",
            "worker",
            "--pool=solo",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "WARNING",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    # Not the current app: the project's own (eager in tests) must stay the one jobs go to.
    client = Celery(broker=broker, backend=broker, set_as_current=False)
    yield client
    process.terminate()
    process.wait(timeout=20)


def test_reminders_run_on_a_real_worker(worker, coordinator, physician, patient, tomorrow_10):
    appointment = appointment_book(
        actor=coordinator,
        patient=patient,
        kind="consult",
        starts_at=tomorrow_10,
        clinician=physician,
    )
    deadline = time.monotonic() + 60
    result = worker.send_task("anagen.clinic.intake.tasks.send_appointment_reminders")
    assert result.get(timeout=max(1, deadline - time.monotonic())) == 1
    assert ReminderSent.objects.filter(appointment=appointment).count() == 1
    again = worker.send_task("anagen.clinic.intake.tasks.send_appointment_reminders")
    assert again.get(timeout=30) == 0
