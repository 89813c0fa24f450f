"""The clinic clock: frozen for one thread only, and read by services, timestamps and history."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.utils import timezone

from anagen.clinic.accounts.roles import Role
from anagen.clinic.common import clock
from anagen.clinic.patients.services import patient_create

MOMENT = timezone.make_aware(datetime.datetime(2025, 3, 14, 9, 30))


def test_frozen_applies_inside_the_block_only():
    with clock.frozen(MOMENT) as moment:
        assert clock.now() == moment == MOMENT and clock.is_frozen()
        assert clock.localdate() == datetime.date(2025, 3, 14)
    assert not clock.is_frozen() and clock.now() > MOMENT


def test_frozen_ends_when_the_block_raises():
    with pytest.raises(RuntimeError), clock.frozen(MOMENT):
        raise RuntimeError
    assert not clock.is_frozen()


def test_frozen_is_not_seen_by_other_threads():
    seen = []
    with clock.frozen(MOMENT):
        thread = threading.Thread(target=lambda: seen.append(clock.now()))
        thread.start()
        thread.join()
    assert seen and seen[0] > MOMENT


def test_a_naive_moment_is_refused():
    with pytest.raises(ValueError), clock.frozen(datetime.datetime(2025, 3, 14)):
        pass


@pytest.mark.django_db
def test_records_and_their_history_are_dated_by_the_clock(staff, site):
    with clock.frozen(MOMENT):
        patient = patient_create(
            actor=staff[Role.COORDINATOR],
            site=site,
            given_name="Clock",
            family_name="Test",
            date_of_birth=datetime.date(1980, 1, 1),
            sex="male",
        )
    patient.refresh_from_db()
    assert patient.created_at == MOMENT
    assert patient.history.get().history_date == MOMENT
