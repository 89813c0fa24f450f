"""FHIR (``/fhir/``) through an API token: the same ``Authorization: Bearer`` as ``/api/v1/``, and
a token reads FHIR only when it carries everything a FHIR read answers with (its scopes)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from anagen.clinic.accounts.policy import FHIR_SOURCES, Perm, fhir_token_missing
from anagen.clinic.accounts.roles import Role
from anagen.clinic.api.tokens import role_permissions
from anagen.clinic.intake.models import Appointment
from tests.clinic.factories import AppointmentFactory, PatientFactory, SiteFactory

from .conftest import token_for

pytestmark = pytest.mark.django_db


def _fhir(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_a_token_reads_a_patients_everything(staff, patient):
    AppointmentFactory(patient=patient, clinician=staff[Role.PHYSICIAN])
    elsewhere = PatientFactory(site=SiteFactory(code="MAN"), family_name="Elsewhere")
    fhir = _fhir(token_for(staff[Role.PHYSICIAN]))
    response = fhir.get(f"/fhir/Patient/{patient.pk}/$everything")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle"
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert "Patient" in kinds and "Appointment" in kinds
    assert Appointment.objects.filter(patient=patient).count() == kinds.count("Appointment")
    # Another site's patient is not known to this token's holder.
    assert fhir.get(f"/fhir/Patient/{elsewhere.pk}/$everything").status_code == 404


def test_an_unknown_token_is_refused_in_fhir_words(patient):
    response = _fhir("ank_not-a-key").get(f"/fhir/Patient/{patient.pk}/$everything")
    assert response.status_code == 401
    assert response.json()["resourceType"] == "OperationOutcome"


def test_a_token_narrower_than_a_fhir_read_is_refused(staff, patient):
    physician = staff[Role.PHYSICIAN]
    everything = role_permissions(physician)
    assert fhir_token_missing(physician, everything) == []
    without_fhir = [p for p in everything if p != Perm.FHIR_READ]
    without_products = [p for p in everything if p != Perm.PRODUCT_VIEW]
    assert Perm.PRODUCT_VIEW in FHIR_SOURCES.values()
    for scopes, missing in ((without_fhir, "fhir_read"), (without_products, "product_view")):
        response = _fhir(token_for(physician, scopes=scopes)).get(
            f"/fhir/Patient/{patient.pk}/$everything"
        )
        assert response.status_code == 403
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert missing in outcome["issue"][0]["diagnostics"]
    # The same narrow token still works on /api/v1/ for what it carries.
    narrow = _fhir(token_for(physician, scopes=without_products))
    assert narrow.get(f"/api/v1/patients/{patient.pk}/").status_code == 200
