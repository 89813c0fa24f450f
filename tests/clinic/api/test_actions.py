"""The API's writes go through the same services as the pages: the clinical rules, codes and
site scoping hold; retries with an Idempotency-Key act once; stale updates are refused."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from anagen.clinic.accounts.roles import Role
from anagen.clinic.api.models import IdempotentResponse
from anagen.clinic.assessment.models import Assessment
from anagen.clinic.intake.models import Appointment, Inquiry
from anagen.clinic.intake.services import inquiry_submit
from anagen.clinic.patients.models import Patient
from anagen.clinic.treatment.models import CellProduct, TreatmentSession
from tests.clinic.factories import PASSWORD, PatientFactory, SiteFactory, staff_at, tomorrow_at
from tests.clinic.treatment_helpers import (
    consented_plan,
    harvest,
    make_candidate,
    released_product,
    second_lab_technician,
)

pytestmark = pytest.mark.django_db


def _administer_body(plan, product, nurse, **overrides):
    body = {
        "plan": plan.pk,
        "scanned_product_code": product.product_code,
        "scanned_mrn": plan.patient.mrn,
        "verifier": nurse.pk,
        "verifier_password": PASSWORD,
        "zones": [
            {
                "zone": "vertex",
                "points": 40,
                "volume_per_point_ml": "0.05",
                "cells_per_point": 100000,
            }
        ],
        "started_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
        "ended_at": timezone.now().isoformat(),
    }
    body.update(overrides)
    return body


@pytest.fixture
def pathway(staff, patient):
    physician, nurse = staff[Role.PHYSICIAN], staff[Role.NURSE]
    make_candidate(physician, patient)
    plan = consented_plan(physician, nurse, patient)
    product = released_product(physician, staff[Role.LAB_TECHNICIAN], plan)
    return plan, product


def test_a_retried_administer_returns_the_first_response_and_administers_once(api, staff, pathway):
    plan, product = pathway
    client = api(staff[Role.PHYSICIAN])
    body = _administer_body(plan, product, staff[Role.NURSE])
    key = str(uuid.uuid4())
    first = client.post("/api/v1/sessions/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201, first.json()
    again = client.post("/api/v1/sessions/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert first["ETag"] and "Idempotent-Replayed" not in first
    assert TreatmentSession.objects.filter(plan=plan).count() == 1
    product.refresh_from_db()
    assert product.status == CellProduct.Status.ADMINISTERED
    # Even were the stored response lost, the key is the session's submission token: the
    # service's replay guard (and the database's unique index) refuse a second session.
    IdempotentResponse.objects.filter(key=key).delete()
    lost = client.post("/api/v1/sessions/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert lost.status_code == 400 and lost.json()["code"] == "already_recorded"
    first_again = client.post("/api/v1/sessions/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first_again.json()["code"] == "already_recorded"  # the refusal is kept now
    assert TreatmentSession.objects.filter(plan=plan).count() == 1
    # The same key for another request is refused, and nothing is administered.
    other = client.post(
        "/api/v1/sessions/", {**body, "notes": "changed"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    # A new key: the service itself refuses a second administration of the product.
    second = client.post(
        "/api/v1/sessions/", body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
    )
    assert second.status_code == 400
    assert second.json()["code"] in {"wrong_status", "already_administered", "unknown_product"}
    assert TreatmentSession.objects.filter(plan=plan).count() == 1
    # The follow-up schedule the session generated is booked through the API too.
    visits = api(staff[Role.COORDINATOR]).get(f"/api/v1/follow-ups/?plan={plan.pk}").json()
    visit = next(v for v in visits["results"] if v["kind"] == "follow_up")
    window_start = timezone.datetime.fromisoformat(visit["window_start"])
    starts = timezone.make_aware(window_start.replace(hour=10))
    booked = api(staff[Role.COORDINATOR]).post(
        f"/api/v1/follow-ups/{visit['id']}/book/",
        {"starts_at": starts.isoformat(), "clinician": staff[Role.PHYSICIAN].pk},
        format="json",
    )
    assert booked.status_code == 200, booked.json()
    assert booked.json()["appointment"] is not None


def test_administer_needs_an_idempotency_key(api, staff, pathway):
    plan, product = pathway
    response = api(staff[Role.PHYSICIAN]).post(
        "/api/v1/sessions/", _administer_body(plan, product, staff[Role.NURSE]), format="json"
    )
    assert response.status_code == 428
    assert response.json()["code"] == "idempotency_key_required"
    assert not TreatmentSession.objects.exists()


def test_administer_keeps_the_two_person_identity_check(api, staff, pathway):
    plan, product = pathway
    physician, nurse = staff[Role.PHYSICIAN], staff[Role.NURSE]
    client = api(physician)

    def post(**overrides):
        body = _administer_body(plan, product, nurse, **overrides)
        return client.post(
            "/api/v1/sessions/", body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
        )

    cases = {
        "verifier_is_administrator": {"verifier": physician.pk},
        "verifier_password": {"verifier_password": "wrong"},
        "mrn_mismatch": {"scanned_mrn": "AN9999999"},
        "verifier_role": {"verifier": staff[Role.COORDINATOR].pk},
    }
    for code, overrides in cases.items():
        response = post(**overrides)
        assert response.status_code == 400, (code, response.json())
        assert code in {e["code"] for e in response.json()["errors"]}, (code, response.json())
    assert not TreatmentSession.objects.exists()
    # A stored idempotent refusal is replayed as such (the key stays spent).
    assert IdempotentResponse.objects.filter(status_code=400).count() == len(cases)


def test_convert_an_inquiry_then_book_and_assess(api, site, staff):
    coordinator, physician = staff[Role.COORDINATOR], staff[Role.PHYSICIAN]
    inquiry = inquiry_submit(
        full_name="Rhea Larkspur", phone="+44 7700 900123", preferred_site=site
    )
    response = api(coordinator).post(
        f"/api/v1/inquiries/{inquiry.pk}/convert/",
        {
            "given_name": "Rhea",
            "family_name": "Larkspur",
            "date_of_birth": "1984-03-01",
            "sex": "female",
            "consult_starts_at": tomorrow_at(11).isoformat(),
            "clinician": physician.pk,
            "site": site.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    patient_id = response.json()["patient"]["id"]
    assert response.json()["appointment"]["kind"] == "consult"
    inquiry.refresh_from_db()
    assert inquiry.status == Inquiry.Status.BOOKED and inquiry.patient_id == patient_id
    again = api(coordinator).post(
        f"/api/v1/inquiries/{inquiry.pk}/convert/",
        {
            "given_name": "Rhea",
            "family_name": "Larkspur",
            "date_of_birth": "1984-03-01",
            "sex": "female",
            "consult_starts_at": tomorrow_at(12).isoformat(),
            "clinician": physician.pk,
            "site": site.pk,
        },
        format="json",
    )
    assert again.status_code == 400 and again.json()["code"] == "already_converted"
    assessed = api(physician).post(
        "/api/v1/assessments/",
        {"patient": patient_id, "pattern": "thinning", "norwood": "III", "ferritin": 80},
        format="json",
    )
    assert assessed.status_code == 201, assessed.json()
    assert assessed.json()["decision"]["outcome"] == "candidate"
    # A coordinator may not record an assessment (policy), and nothing is written.
    refused = api(coordinator).post(
        "/api/v1/assessments/", {"patient": patient_id, "pattern": "thinning"}, format="json"
    )
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert Assessment.objects.filter(patient_id=patient_id).count() == 1


def test_lab_actions_release_store_thaw_discard(api, staff, patient):
    physician, nurse, lab = staff[Role.PHYSICIAN], staff[Role.NURSE], staff[Role.LAB_TECHNICIAN]
    make_candidate(physician, patient)
    plan = consented_plan(physician, nurse, patient)
    product = harvest(physician, plan).products.get()
    results = api(lab).post(
        f"/api/v1/cell-products/{product.pk}/results/",
        {
            "processing_ended_at": (timezone.now() - timedelta(minutes=30)).isoformat(),
            "total_nucleated_cells": 10_000_000,
            "viable_fraction": "0.85",
            "viable_cells": 8_500_000,
            "volume_ml": "4",
            "qc_endotoxin": "pass",
        },
        format="json",
    )
    assert results.status_code == 200, results.json()
    # Four eyes: whoever recorded the results may not release.
    own = api(lab).post(
        f"/api/v1/cell-products/{product.pk}/release/", {"password": PASSWORD}, format="json"
    )
    assert own.status_code == 400 and own.json()["code"] == "four_eyes"
    second = api(second_lab_technician(lab))
    released = second.post(
        f"/api/v1/cell-products/{product.pk}/release/", {"password": PASSWORD}, format="json"
    )
    assert released.status_code == 200, released.json()
    assert released.json()["status"] == "released"
    stored = second.post(
        f"/api/v1/cell-products/{product.pk}/store/",
        {
            "freezer": "F1",
            "rack": "R1",
            "box": "B1",
            "position": "A1",
            "expires_at": (timezone.now() + timedelta(days=300)).isoformat(),
        },
        format="json",
    )
    assert stored.status_code == 200, stored.json()
    assert stored.json()["status"] == "stored"
    thawed = second.post(f"/api/v1/cell-products/{product.pk}/thaw/", {}, format="json")
    assert thawed.status_code == 200, thawed.json()
    assert thawed.json()["status"] == "thawed"
    discarded = second.post(
        f"/api/v1/cell-products/{product.pk}/discard/", {"reason": "Dropped"}, format="json"
    )
    assert discarded.status_code == 200 and discarded.json()["status"] == "discarded"
    kinds = api(physician).get(f"/api/v1/custody-events/?product={product.pk}").json()
    assert kinds["count"] >= 5
    # A nurse may read products but not discard them.
    nurse_try = api(nurse).post(
        f"/api/v1/cell-products/{product.pk}/discard/", {"reason": "x"}, format="json"
    )
    assert nurse_try.status_code == 403


def test_another_sites_records_are_not_found_and_not_writable(api, staff, pathway):
    plan, product = pathway
    elsewhere = staff_at(SiteFactory(code="MAN"))
    client = api(elsewhere[Role.PHYSICIAN])
    assert client.get(f"/api/v1/patients/{plan.patient.pk}/").status_code == 404
    assert client.get(f"/api/v1/cell-products/{product.pk}/").status_code == 404
    assert client.get("/api/v1/patients/").json()["count"] == 0
    response = client.post(
        "/api/v1/sessions/",
        _administer_body(plan, product, elsewhere[Role.NURSE]),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert response.status_code == 400
    assert response.json()["field"] == "plan"
    assert response.json()["code"] == "does_not_exist"
    assert not TreatmentSession.objects.exists()


def test_etag_and_if_match_on_a_patient_update(api, staff, patient):
    client = api(staff[Role.COORDINATOR])
    url = f"/api/v1/patients/{patient.pk}/"
    read = client.get(url)
    etag = read["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    missing = client.patch(url, {"phone": "+44 20 7946 0001"}, format="json")
    assert missing.status_code == 428 and missing.json()["code"] == "precondition_required"
    updated = client.patch(url, {"phone": "+44 20 7946 0001"}, format="json", HTTP_IF_MATCH=etag)
    assert updated.status_code == 200, updated.json()
    assert updated["ETag"] != etag
    stale = client.patch(url, {"phone": "+44 20 7946 0002"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412 and stale.json()["code"] == "precondition_failed"
    patient.refresh_from_db()
    assert patient.phone == "+44 20 7946 0001"
    # PUT (a whole replacement) is not offered.
    assert client.put(url, {}, format="json", HTTP_IF_MATCH=updated["ETag"]).status_code == 405


def test_correct_an_analysis(api, staff, patient):
    from tests.clinic.imaging_helpers import imaging_world

    physician = staff[Role.PHYSICIAN]
    world = imaging_world(physician, patient)
    image = world["trichoscopy"]
    client = api(physician)
    before = client.get(f"/api/v1/images/{image.pk}/").json()
    counted = next(h["id"] for h in image.result["hairs"] if h["counted"])
    corrected = client.post(
        f"/api/v1/images/{image.pk}/correct/",
        {
            "removed_hair_ids": [counted],
            "added_terminal": 2,
            "note": "Two hairs missed at the edge",
        },
        format="json",
    )
    assert corrected.status_code == 200, corrected.json()
    assert corrected.json()["corrected_by"] == physician.pk
    assert before["corrected_counts"] is None
    counts = corrected.json()["corrected_counts"]
    assert counts["hair_count"] == before["hair_count"] - 1 + 2
    bad = client.post(
        f"/api/v1/images/{image.pk}/correct/",
        {"removed_hair_ids": [99999], "note": "x"},
        format="json",
    )
    assert bad.status_code == 400 and bad.json()["field"] == "removed_hair_ids"


def test_filtering_ordering_and_paging(api, site, staff):
    coordinator = staff[Role.COORDINATOR]
    for name in ("Zeta", "Alpha", "Mu"):
        PatientFactory(site=site, created_by=coordinator, family_name=name)
    client = api(coordinator)
    page = client.get("/api/v1/patients/?ordering=family_name&limit=2").json()
    assert page["count"] == 3
    assert [p["family_name"] for p in page["results"]] == ["Alpha", "Mu"]
    assert page["next"]
    only = client.post("/api/v1/patients/search/", {"query": "zeta"}, format="json").json()
    assert [p["family_name"] for p in only["results"]] == ["Zeta"] and only["count"] == 1
    # Identifiers in a URL are refused, not ignored (an unfiltered list would mislead).
    refused = client.get("/api/v1/patients/?family_name=Zeta")
    assert refused.status_code == 400 and refused.json()["field"] == "family_name"
    assert "search" in refused.json()["message"]
    for param in ("MRN", "identifier", "dob", "mrn__iexact", "search"):
        assert client.get(f"/api/v1/patients/?{param}=x").status_code == 400, param
    assert client.get("/api/v1/patients/?sex=female&ordering=-id&limit=1").status_code == 200
    elsewhere = PatientFactory(site=SiteFactory(code="MAN", name="Manchester"), family_name="Zeta")
    again = client.post("/api/v1/patients/search/", {"query": "Zeta"}, format="json").json()
    assert [p["id"] for p in again["results"]] != [] and elsewhere.pk not in {
        p["id"] for p in again["results"]
    }
    assert client.post("/api/v1/patients/search/", {}, format="json").status_code == 400
    Appointment  # noqa: B018 (imported for the filters below)
    assert client.get("/api/v1/appointments/?status=booked").status_code == 200
    bad = client.get("/api/v1/appointments/?starts_at__gte=not-a-date")
    assert bad.status_code == 400 and bad.json()["field"] == "starts_at__gte"


def test_register_a_patient_refuses_another_site(api, staff):
    elsewhere = SiteFactory(code="MAN")
    response = api(staff[Role.COORDINATOR]).post(
        "/api/v1/patients/",
        {
            "site": elsewhere.pk,
            "given_name": "Ida",
            "family_name": "Moss",
            "date_of_birth": "1990-01-01",
            "sex": "female",
        },
        format="json",
    )
    assert response.status_code == 400 and response.json()["field"] == "site"
    assert not Patient.objects.filter(family_name="Moss").exists()


def test_a_server_error_releases_the_idempotency_key(api, staff, patient, monkeypatch):
    client = api(staff[Role.PHYSICIAN])
    client.raise_request_exception = False
    body = {"patient": patient.pk, "pattern": "thinning", "norwood": "III"}

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("anagen.clinic.assessment.services.assessment_record", broken)
    failed = client.post("/api/v1/assessments/", body, format="json", HTTP_IDEMPOTENCY_KEY="k5")
    assert failed.status_code == 500
    assert not IdempotentResponse.objects.filter(key="k5").exists()
    monkeypatch.undo()
    retried = client.post("/api/v1/assessments/", body, format="json", HTTP_IDEMPOTENCY_KEY="k5")
    assert retried.status_code == 201
    assert "no-store" in retried["Cache-Control"]  # API answers carry patient data


def test_registry_outcomes_and_statistics_show_no_patient(api, staff, patient):
    from anagen.clinic.registry.services import outcomes_refresh
    from tests.clinic.imaging_helpers import imaging_world

    imaging_world(staff[Role.PHYSICIAN], patient)
    assert outcomes_refresh(patient=patient) >= 1
    researcher = staff[Role.RESEARCHER]
    client = api(researcher)
    rows = client.get("/api/v1/outcomes/").json()["results"]
    assert rows
    for row in rows:
        assert not {"patient", "visit", "image", "target_site", "taken_on"} & set(row)
        assert row["density_per_cm2"] is not None
    stats = client.get("/api/v1/registry/statistics/?measure=density_per_cm2").json()
    assert stats["measure"] == "density_per_cm2" and stats["n_patients"] == 1
    bad = client.get("/api/v1/registry/statistics/?measure=shoe_size")
    assert bad.status_code == 400 and bad.json()["field"] == "measure"
    # The researcher reads no chart.
    assert client.get("/api/v1/patients/").status_code == 403
