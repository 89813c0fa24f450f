"""Every job is acknowledged after it runs and redelivered if its worker dies (settings).

The behaviour itself is shown with real workers in tests/clinic/imaging/test_worker_faults.py
(PostgreSQL leg); this checks, in every run, that the settings reach the tasks.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from anagen.clinic.celery import app

JOBS = [
    "anagen.clinic.imaging.tasks.analyse_trichoscopy",
    "anagen.clinic.imaging.tasks.retry_stuck_analyses",
    "anagen.clinic.registry.tasks.refresh_outcomes",
    "anagen.clinic.progress.tasks.refresh_snapshots",
    "anagen.clinic.intake.tasks.send_appointment_reminders",
    "anagen.clinic.treatment.tasks.expire_products",
    "anagen.clinic.review.tasks.create_review_pairs",
]


@pytest.fixture(scope="module", autouse=True)
def _registered():
    app.loader.import_default_modules()  # what a worker does at start: every tasks module


@pytest.mark.parametrize("name", JOBS)
def test_job_is_acknowledged_late_and_rejected_on_worker_loss(name):
    task = app.tasks[name]
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True


def test_workers_reserve_one_job_at_a_time_and_redelivery_has_a_timeout():
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    # Longer than the stuck sweep's limit: the sweep re-queues a lost analysis first.
    assert timeout >= settings.ANAGEN_ANALYSIS_STUCK_MINUTES * 60
