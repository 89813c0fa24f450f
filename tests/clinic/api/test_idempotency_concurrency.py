"""Two (or four) retries of one administration sent at the same instant with one
Idempotency-Key: exactly one session, never a 5xx; the others see the first running (409) or get
its response back. The same for four retries of a request that died, once its claim is stale:
one takes the key over and acts. Real threads against the real test database; the PostgreSQL run is part of
``make test-postgres`` (DATABASE_URL pointing at TEST_POSTGRES_URL)."""

from __future__ import annotations

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from anagen.clinic.accounts.roles import Role
from anagen.clinic.api.models import IdempotentResponse
from anagen.clinic.assessment.models import Assessment
from anagen.clinic.treatment.models import CellProduct, TreatmentSession
from tests.clinic.common.test_concurrency import on, race
from tests.clinic.treatment_helpers import consented_plan, make_candidate, released_product

from .conftest import token_for
from .test_actions import _administer_body

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 4


def one_acts(clients, post):
    """Send ``post`` from every client at once: no exception, no 5xx, at least one 201 (the
    others 409 while it runs). The responses and the created ones."""
    responses = race(clients, post)
    for response in responses:
        assert not isinstance(response, BaseException), repr(response)
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, statuses
    created = [r for r in responses if r.status_code == 201]
    assert created, statuses
    return responses, created


def administer_race(staff, patient):
    physician, nurse = staff[Role.PHYSICIAN], staff[Role.NURSE]
    make_candidate(physician, patient)
    plan = consented_plan(physician, nurse, patient)
    product = released_product(physician, staff[Role.LAB_TECHNICIAN], plan)
    raw = token_for(physician)
    body = _administer_body(plan, product, nurse)
    clients = []
    for _ in range(THREADS):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        clients.append(client)

    def post(i, client):
        return client.post(
            "/api/v1/sessions/", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-of-one-session"
        )

    responses, created = one_acts(clients, post)
    assert len({r.json()["id"] for r in created}) == 1  # replays carry the same session
    for waiting in (r for r in responses if r.status_code == 409):
        assert waiting.json()["code"] == "idempotency_in_progress"
    assert TreatmentSession.objects.count() == 1
    assert IdempotentResponse.objects.get().status_code == 201
    product.refresh_from_db()
    assert product.status == CellProduct.Status.ADMINISTERED
    # Retried afterwards: the first response, and still one session.
    late = clients[0].post(
        "/api/v1/sessions/", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-of-one-session"
    )
    assert late.status_code == 201 and late.json()["id"] == created[0].json()["id"]
    assert TreatmentSession.objects.count() == 1


def test_simultaneous_retries_administer_once_on_sqlite(staff, patient):
    on("sqlite")
    administer_race(staff, patient)


@pytest.mark.postgres
def test_simultaneous_retries_administer_once_on_postgres(staff, patient):
    on("postgresql")
    administer_race(staff, patient)


def stale_takeover_race(staff, patient, monkeypatch):
    """A request claimed a key and died; four retries arrive at once after the limit: exactly
    one takes the key over and acts, the others wait (409) or get its response back."""
    from .test_idempotency_stale import URL, age, body, killed_claim

    physician = staff[Role.PHYSICIAN]
    raw = token_for(physician)
    clients = []
    for _ in range(THREADS):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        clients.append(client)
    record = killed_claim(clients[0], patient, monkeypatch, "dead-worker")
    age(record, settings.ANAGEN_IDEMPOTENCY_STALE_SECONDS + 60)

    def post(i, client):
        return client.post(URL, body(patient), format="json", HTTP_IDEMPOTENCY_KEY="dead-worker")

    _, created = one_acts(clients, post)
    assert len({r.json()["id"] for r in created}) == 1
    assert Assessment.objects.filter(patient=patient).count() == 1
    assert IdempotentResponse.objects.get(key="dead-worker").status_code == 201


def test_simultaneous_retries_of_a_dead_request_act_once_on_sqlite(staff, patient, monkeypatch):
    on("sqlite")
    stale_takeover_race(staff, patient, monkeypatch)


@pytest.mark.postgres
def test_simultaneous_retries_of_a_dead_request_act_once_on_postgres(staff, patient, monkeypatch):
    on("postgresql")
    stale_takeover_race(staff, patient, monkeypatch)
