"""Staff posting at the same moment: no "database is locked" 500s, and one inquiry makes one
patient however many coordinators press "Register and book" at once.

Real threads against the real test database (a file for SQLite, so threads share it). The
SQLite tests run in the default suite; the PostgreSQL ones in ``make test-postgres``, which
points DATABASE_URL at TEST_POSTGRES_URL (under CI=true a missing server fails, see
tests/conftest.py).
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from anagen.clinic.accounts.roles import Role
from anagen.clinic.intake.models import Appointment, Inquiry
from anagen.clinic.intake.services import inquiry_submit
from anagen.clinic.patients.models import Patient
from tests.clinic.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 4


def on(vendor: str) -> None:
    if connection.vendor != vendor:
        pytest.skip(f"runs on {vendor}; this run uses {connection.vendor}")


def race(clients: list[Client], post) -> list:
    """Run ``post(i, client)`` in one thread per client, all released at the same instant."""
    barrier = threading.Barrier(len(clients))
    results: list = [None] * len(clients)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = post(i, clients[i])
        except BaseException as error:  # reported by the assertions below
            results[i] = error
        finally:
            connection.close()  # each thread has its own connection; leave none open

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request hung"
    return results


def coordinators(site, n: int) -> list[Client]:
    clients = []
    for i in range(n):
        client = Client()
        client.force_login(make_user(Role.COORDINATOR, site, email=f"coord{i}@example.test"))
        clients.append(client)
    return clients


def convert_race(site, physician, tomorrow_10):
    inquiry = inquiry_submit(full_name="Esme Dunmore", phone="+44 7700 900333", preferred_site=site)
    url = reverse("intake:convert", args=[inquiry.pk])
    data = {
        "given_name": "Esme",
        "family_name": "Dunmore",
        "date_of_birth": "1985-03-04",
        "sex": "female",
        "phone": "+44 7700 900333",
        "email": "",
        "site": site.pk,
        "consult_starts_at": timezone.localtime(tomorrow_10).strftime("%Y-%m-%dT%H:%M"),
        "clinician": physician.pk,
    }
    responses = race(coordinators(site, THREADS), lambda i, client: client.post(url, data))
    for response in responses:
        assert not isinstance(response, BaseException), repr(response)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * (THREADS - 1) + [302], statuses  # never a 500
    for refused in (r for r in responses if r.status_code == 200):
        assert "already been converted" in refused.content.decode()
    assert Patient.objects.count() == 1 and Appointment.objects.count() == 1
    inquiry.refresh_from_db()
    assert inquiry.patient == Patient.objects.get() and inquiry.status == Inquiry.Status.BOOKED


def registration_race(site):
    def post(i, client):
        return client.post(
            reverse("patients:create"),
            {
                "site": site.pk,
                "given_name": f"Person{i}",
                "family_name": "Concurrent",
                "date_of_birth": f"19{70 + i}-01-01",
                "sex": "other",
                "phone": f"+44 7700 90010{i}",
            },
        )

    responses = race(coordinators(site, THREADS), post)
    for response in responses:
        assert not isinstance(response, BaseException), repr(response)
    assert [r.status_code for r in responses] == [302] * THREADS
    mrns = set(Patient.objects.values_list("mrn", flat=True))
    assert len(mrns) == THREADS


def test_simultaneous_conversions_make_one_patient_on_sqlite(site, physician, tomorrow_10):
    on("sqlite")
    convert_race(site, physician, tomorrow_10)


def test_simultaneous_registrations_all_succeed_on_sqlite(site):
    on("sqlite")
    registration_race(site)


def test_sqlite_runs_in_wal_mode_with_immediate_transactions():
    on("sqlite")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 1  # NORMAL: safe in WAL mode, no fsync per commit
    assert connection.transaction_mode == "IMMEDIATE"


@pytest.mark.postgres
def test_simultaneous_conversions_make_one_patient_on_postgres(site, physician, tomorrow_10):
    on("postgresql")
    convert_race(site, physician, tomorrow_10)


@pytest.mark.postgres
def test_simultaneous_registrations_all_succeed_on_postgres(site):
    on("postgresql")
    registration_race(site)
