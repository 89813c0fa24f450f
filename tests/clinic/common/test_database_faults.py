"""The database connection lost in the middle of a request: a clean 503 page, nothing written.

On PostgreSQL the request's own server process is terminated (``pg_terminate_backend`` from a
second connection) right after the service's first INSERT, inside its transaction; on any
database a wrapper raises ``OperationalError`` on a later statement of the same transaction.
The PostgreSQL test runs in ``make test-postgres`` (TEST_POSTGRES_URL; under CI=true a missing
server fails, tests/conftest.py).
"""

from __future__ import annotations

import psycopg
import pytest
from django.db import OperationalError, connection
from django.db.models.signals import post_save
from django.test import Client
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.patients.models import Patient

pytestmark = pytest.mark.django_db(transaction=True)

FAMILY = "Quillfeather"


def _register(client: Client, site):
    return client.post(
        reverse("patients:create"),
        {
            "site": site.pk,
            "given_name": "Orla",
            "family_name": FAMILY,
            "date_of_birth": "1979-05-06",
            "sex": "female",
            "phone": "+44 7700 900555",
        },
    )


def _coordinator_client(staff) -> Client:
    client = Client(raise_request_exception=False)  # as a browser sees it
    client.force_login(staff[Role.COORDINATOR])
    return client


def _assert_clean_503(response) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "The clinic database cannot be reached just now" in page
    assert "was not saved" in page
    for code_word in ("Traceback", "OperationalError", "psycopg", "sqlite", FAMILY):
        assert code_word not in page


def _nothing_written() -> None:
    connection.close()  # the request's connection is gone; the next query opens a fresh one
    assert not Patient.objects.filter(family_name=FAMILY).exists()
    assert not Patient.history.filter(family_name=FAMILY).exists()


@pytest.mark.postgres
def test_backend_terminated_mid_transaction_gives_503_and_no_partial_write(site, staff):
    if connection.vendor != "postgresql":
        pytest.skip("runs in the PostgreSQL leg (make test-postgres); this run uses SQLite")
    client = _coordinator_client(staff)
    s = connection.settings_dict
    terminated: list[int] = []

    def cut_connection(sender, instance, created, **kwargs):
        if instance.family_name != FAMILY or terminated:
            return
        assert connection.in_atomic_block  # the service's transaction is open
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with psycopg.connect(
            host=s["HOST"] or "127.0.0.1",
            port=s["PORT"] or 5432,
            user=s["USER"],
            password=s["PASSWORD"],
            dbname=s["NAME"],
            autocommit=True,
        ) as other:
            assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        terminated.append(pid)

    post_save.connect(cut_connection, sender=Patient, weak=False)
    try:
        response = _register(client, site)
    finally:
        post_save.disconnect(cut_connection, sender=Patient)
    assert terminated, "the request never reached the INSERT"
    _assert_clean_503(response)
    _nothing_written()
    # The next request gets a new connection and works.
    client = _coordinator_client(staff)
    assert _register(client, site).status_code == 302
    assert Patient.objects.filter(family_name=FAMILY).count() == 1


def test_operational_error_mid_transaction_gives_503_and_no_partial_write(site, staff):
    client = _coordinator_client(staff)
    seen: list[str] = []

    def fail_after_the_insert(execute, sql, params, many, context):
        # The patient's row is in; the history row (same transaction) meets a lost connection.
        if seen and "history" in sql.lower() and sql.lstrip().upper().startswith("INSERT"):
            raise OperationalError("server closed the connection unexpectedly")
        if sql.lstrip().upper().startswith("INSERT") and "patients_patient" in sql:
            seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail_after_the_insert):
        response = _register(client, site)
    assert seen, "the request never reached the INSERT"
    _assert_clean_503(response)
    _nothing_written()


def test_other_server_errors_keep_the_500_page(site, staff, monkeypatch):
    from anagen.clinic.patients import views

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views.services, "patient_create", broken)
    response = _register(_coordinator_client(staff), site)
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
