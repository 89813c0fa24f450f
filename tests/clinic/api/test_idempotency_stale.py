"""A key whose request died (a worker killed mid-request) is taken over by a retry once its claim
is older than ANAGEN_IDEMPOTENCY_STALE_SECONDS; a request that outlived its claim is undone; old
stored responses are purged (command and beat task)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from anagen.clinic.accounts.roles import Role
from anagen.clinic.api.models import IdempotentResponse
from anagen.clinic.api.tasks import purge_idempotent_responses
from anagen.clinic.assessment import services as assessment_services
from anagen.clinic.assessment.models import Assessment

pytestmark = pytest.mark.django_db

URL = "/api/v1/assessments/"


def body(patient) -> dict:
    return {"patient": patient.pk, "pattern": "thinning", "norwood": "III"}


def killed_claim(client, patient, monkeypatch, key: str) -> IdempotentResponse:
    """A request that claimed ``key`` and died before answering: nothing released, nothing done."""

    def killed(**kwargs):
        raise RuntimeError("worker killed")

    client.raise_request_exception = False
    with monkeypatch.context() as patch:
        patch.setattr("anagen.clinic.assessment.services.assessment_record", killed)
        patch.setattr("anagen.clinic.api.idempotency.release", lambda record: None)
        assert (
            client.post(URL, body(patient), format="json", HTTP_IDEMPOTENCY_KEY=key).status_code
            == 500
        )
    record = IdempotentResponse.objects.get(key=key)
    assert record.status_code is None
    return record


def age(record: IdempotentResponse, seconds: float) -> None:
    IdempotentResponse.objects.filter(pk=record.pk).update(
        created_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_a_dead_requests_key_is_taken_over_after_the_limit(api, staff, patient, monkeypatch):
    client = api(staff[Role.PHYSICIAN])
    record = killed_claim(client, patient, monkeypatch, "dead-1")
    limit = settings.ANAGEN_IDEMPOTENCY_STALE_SECONDS
    assert limit == 300
    age(record, limit - 30)  # might still be running: a retry waits
    waiting = client.post(URL, body(patient), format="json", HTTP_IDEMPOTENCY_KEY="dead-1")
    assert waiting.status_code == 409
    assert waiting.json()["code"] == "idempotency_in_progress"
    assert not Assessment.objects.filter(patient=patient).exists()

    age(record, limit + 30)  # dead: the retry takes the key over and acts, once
    taken = client.post(URL, body(patient), format="json", HTTP_IDEMPOTENCY_KEY="dead-1")
    assert taken.status_code == 201, taken.content
    assert Assessment.objects.filter(patient=patient).count() == 1
    record.refresh_from_db()
    assert record.status_code == 201
    again = client.post(URL, body(patient), format="json", HTTP_IDEMPOTENCY_KEY="dead-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == taken.json()["id"]
    assert Assessment.objects.filter(patient=patient).count() == 1


def test_the_limit_is_a_setting(api, staff, patient, monkeypatch, settings):
    settings.ANAGEN_IDEMPOTENCY_STALE_SECONDS = 3600
    client = api(staff[Role.PHYSICIAN])
    record = killed_claim(client, patient, monkeypatch, "dead-2")
    age(record, 600)
    refused = client.post(URL, body(patient), format="json", HTTP_IDEMPOTENCY_KEY="dead-2")
    assert refused.status_code == 409
    # Another body under a dead key is still refused, never taken over.
    other = {**body(patient), "norwood": "IV"}
    age(record, 7200)
    reused = client.post(URL, other, format="json", HTTP_IDEMPOTENCY_KEY="dead-2")
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    assert not Assessment.objects.filter(patient=patient).exists()


def test_a_request_that_outlived_its_claim_is_undone(api, staff, patient, monkeypatch):
    client = api(staff[Role.PHYSICIAN])
    record_it = assessment_services.assessment_record

    def slow(**kwargs):
        done = record_it(**kwargs)
        # Meanwhile a retry found the claim stale and took it over (a newer claim moment).
        IdempotentResponse.objects.filter(key="slow").update(
            created_at=timezone.now() + timedelta(seconds=1)
        )
        return done

    monkeypatch.setattr("anagen.clinic.assessment.services.assessment_record", slow)
    late = client.post(URL, body(patient), format="json", HTTP_IDEMPOTENCY_KEY="slow")
    assert late.status_code == 409 and late.json()["code"] == "idempotency_in_progress"
    assert not Assessment.objects.filter(patient=patient).exists()  # its work rolled back
    assert IdempotentResponse.objects.get(key="slow").status_code is None  # the retry's claim


def test_old_stored_responses_are_purged(api, staff, patient):
    client = api(staff[Role.PHYSICIAN])
    for key in ("old", "recent"):
        assert (
            client.post(URL, body(patient), format="json", HTTP_IDEMPOTENCY_KEY=key).status_code
            == 201
        )
    IdempotentResponse.objects.filter(key="old").update(
        created_at=timezone.now()
        - timedelta(hours=settings.ANAGEN_IDEMPOTENCY_KEEP_HOURS, minutes=1)
    )
    IdempotentResponse.objects.filter(key="recent").update(
        created_at=timezone.now() - timedelta(hours=settings.ANAGEN_IDEMPOTENCY_KEEP_HOURS - 1)
    )
    out = StringIO()
    call_command("purge_idempotency", stdout=out)
    assert "1 stored idempotent response(s) older than 24 h deleted." in out.getvalue()
    assert list(IdempotentResponse.objects.values_list("key", flat=True)) == ["recent"]
    # The beat task does the same, on its schedule.
    entry = settings.CELERY_BEAT_SCHEDULE["api-idempotency-purge"]
    assert entry["task"] == purge_idempotent_responses.name
    assert entry["schedule"] <= 60 * 60
    later = timezone.now() + timedelta(hours=2)
    assert purge_idempotent_responses(now=later) == 1
    assert not IdempotentResponse.objects.exists()
    # A retry after the purge acts again (documented: keep the key's retries within the window).
    assert (
        client.post(URL, body(patient), format="json", HTTP_IDEMPOTENCY_KEY="old").status_code
        == 201
    )
