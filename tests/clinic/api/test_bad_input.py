"""Bad input to the API: a clear structured error (``code``, ``message``, ``field``), nothing
written."""

from __future__ import annotations

import json

import pytest

from anagen.clinic.accounts.roles import Role
from anagen.clinic.api.models import IdempotentResponse
from anagen.clinic.assessment.models import Assessment
from anagen.clinic.intake.models import Appointment
from anagen.clinic.patients.models import Patient

pytestmark = pytest.mark.django_db


def _is_error(body: dict) -> None:
    assert set(body) == {"code", "message", "field", "errors"}, body
    assert body["errors"][0] == {k: body[k] for k in ("code", "message", "field")}
    assert body["message"]


def _nothing_written():
    assert not Assessment.objects.exists()
    assert not Appointment.objects.exists()
    assert Patient.objects.count() == 1  # the fixture's


def test_malformed_json_is_refused(api, staff, patient):
    client = api(staff[Role.PHYSICIAN])
    deep = "[" * 100_000  # too deep for Python's decoder: was a RecursionError, a 500
    for body in ('{"patient": 1, "pattern": ', "not json at all", "\xff\xfe", deep):
        response = client.post("/api/v1/assessments/", body, content_type="application/json")
        assert response.status_code == 400, body
        _is_error(response.json())
        assert response.json()["code"] == "malformed"
    # A JSON array (or a bare number) is not an object.
    for body in ("[1, 2]", "3"):
        response = client.post("/api/v1/assessments/", body, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["code"] == "malformed"
    _nothing_written()


def test_other_media_types_are_refused(api, staff, patient):
    response = api(staff[Role.PHYSICIAN]).post(
        "/api/v1/assessments/", "patient=1", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    _nothing_written()


def test_wrong_types_name_the_field(api, staff, patient):
    client = api(staff[Role.PHYSICIAN])
    cases = [
        ({"patient": "one", "pattern": "thinning"}, "patient", "incorrect_type"),
        ({"patient": patient.pk, "pattern": "thinning", "ferritin": "lots"}, "ferritin", "invalid"),
        ({"patient": patient.pk, "pattern": 7}, "pattern", "invalid_choice"),
        (
            {"patient": patient.pk, "pattern": "thinning", "onset_age_years": -3},
            "onset_age_years",
            "min_value",
        ),
        ({"patient": patient.pk}, "pattern", "required"),
        ({"patient": 999999, "pattern": "thinning"}, "patient", "does_not_exist"),
    ]
    for body, field, code in cases:
        response = client.post("/api/v1/assessments/", body, format="json")
        assert response.status_code == 400, (body, response.json())
        _is_error(response.json())
        assert (response.json()["field"], response.json()["code"]) == (field, code), response.json()
    # Nested input names the element: zones.0.points.
    response = client.post(
        "/api/v1/sessions/",
        {"zones": [{"zone": "vertex", "points": "many"}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="bad-zones",
    )
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert "zones.0.points" in fields, sorted(f or "" for f in fields)
    _nothing_written()


def test_unknown_fields_are_refused_not_ignored(api, staff, patient):
    client = api(staff[Role.PHYSICIAN])
    response = client.post(
        "/api/v1/assessments/",
        {"patient": patient.pk, "pattern": "thinning", "assessed_by": staff[Role.NURSE].pk, "x": 1},
        format="json",
    )
    assert response.status_code == 400
    _is_error(response.json())
    assert {(e["field"], e["code"]) for e in response.json()["errors"]} == {
        ("assessed_by", "unknown_field"),
        ("x", "unknown_field"),
    }
    url = f"/api/v1/patients/{patient.pk}/"
    etag = api(staff[Role.COORDINATOR]).get(url)["ETag"]
    patched = api(staff[Role.COORDINATOR]).patch(
        url, {"mrn": "AN0000999"}, format="json", HTTP_IF_MATCH=etag
    )
    assert patched.status_code == 400 and patched.json()["code"] == "unknown_field"
    patient.refresh_from_db()
    assert patient.mrn != "AN0000999"
    _nothing_written()


def test_a_refused_action_leaves_the_idempotency_key_with_the_refusal(api, staff, patient):
    client = api(staff[Role.PHYSICIAN])
    body = {"patient": patient.pk, "pattern": "thinning", "ferritin": "lots"}
    first = client.post("/api/v1/assessments/", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    again = client.post("/api/v1/assessments/", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert first.status_code == again.status_code == 400
    assert first.json() == again.json()
    assert IdempotentResponse.objects.get(key="k").status_code == 400
    _nothing_written()


def test_a_service_refusal_carries_the_services_code(api, staff, patient):
    """The service's own code and field (onset after the patient's age), not a generic one."""
    response = api(staff[Role.PHYSICIAN]).post(
        "/api/v1/assessments/",
        {"patient": patient.pk, "pattern": "thinning", "onset_age_years": 90},
        format="json",
    )
    assert response.status_code == 400
    _is_error(response.json())
    assert (response.json()["code"], response.json()["field"]) == (
        "age_mismatch",
        "onset_age_years",
    )
    _nothing_written()


def test_text_no_database_can_hold_is_refused(api, staff, patient):
    client = api(staff[Role.PHYSICIAN])
    for body in (
        {"patient": patient.pk, "pattern": "thinning", "notes": "a\u0000b"},
        {"patient": patient.pk, "pattern": "thinning", "triggers": ["\ud800"]},
        {"\u0000": 1},
    ):
        response = client.post(
            "/api/v1/assessments/",
            json.dumps(body),  # ASCII with \u escapes, as a client would send it
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=json.dumps(body),
        )
        assert response.status_code == 400, body
        assert response.json()["code"] == "invalid"
    assert client.get("/api/v1/patients/?sex=a%00b").status_code == 400
    nul = client.post("/api/v1/patients/search/", {"query": "a\x00b"}, format="json")
    assert nul.status_code == 400
    # An offset ISO 8601 allows but a database does not: compared in UTC, not a 5xx.
    far = client.get("/api/v1/appointments/?starts_at__lt=0405-10-31T23%3A42%3A56%2B17%3A49")
    assert far.status_code == 200
    edge = client.get("/api/v1/appointments/?starts_at__lt=0001-01-01T00%3A00%3A00%2B10%3A00")
    assert edge.status_code == 400 and edge.json()["field"] == "starts_at__lt"
    _nothing_written()


def test_a_body_larger_than_the_api_reads_is_a_structured_413(api, staff, patient):
    client = api(staff[Role.PHYSICIAN])
    body = '{"patient": 1, "notes": "' + "a" * 3_000_000 + '"}'  # over 2.5 MB, under 26 MB
    response = client.post("/api/v1/assessments/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    _nothing_written()
