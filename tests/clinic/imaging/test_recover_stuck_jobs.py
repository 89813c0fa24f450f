"""``manage.py recover_stuck_jobs``: the beat's stuck-analysis sweep, by hand (any database).

The same sweep through a real broker is in test_worker_faults.py (PostgreSQL leg).
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from anagen.clinic.accounts.roles import Role
from anagen.clinic.imaging import services
from tests.clinic.imaging_helpers import imaging_world, phantom_png, upload

pytestmark = pytest.mark.django_db


def _run(**options) -> str:
    out = io.StringIO()
    call_command("recover_stuck_jobs", stdout=out, **options)
    return out.getvalue()


def test_command_requeues_then_fails_and_says_so(
    staff, patient, django_capture_on_commit_callbacks
):
    nurse = staff[Role.NURSE]
    world = imaging_world(nurse, patient)
    with django_capture_on_commit_callbacks():  # the job is never sent: lost
        record = services.trichoscopy_upload(
            actor=nurse,
            visit=world["visit"],
            target_site=world["site"],
            device=world["device"],
            image=upload("q.png", phantom_png(5)),
        )
    t0 = record.analysis_queued_at
    assert _run(now=(t0 + timedelta(minutes=5)).isoformat()).startswith("0 analysis job(s)")
    with django_capture_on_commit_callbacks() as sent:
        text = _run(now=(t0 + timedelta(minutes=16)).isoformat())
    assert (
        text.startswith(f"1 analysis job(s) queued again (images {record.pk})") and len(sent) == 1
    )
    later = t0 + timedelta(minutes=16)
    with django_capture_on_commit_callbacks():
        _run(now=(later + timedelta(minutes=16)).isoformat())
        text = _run(now=(later + timedelta(minutes=32)).isoformat())
    assert f"1 given up after 3 attempts (images {record.pk})" in text
    record.refresh_from_db()
    assert record.status == "failed" and "did not finish after 3 attempts" in record.error


def test_command_refuses_a_time_without_zone():
    with pytest.raises(CommandError, match="time zone"):
        _run(now="2026-12-05T10:00:00")
    with pytest.raises(CommandError, match="time zone"):
        _run(now="yesterday")
