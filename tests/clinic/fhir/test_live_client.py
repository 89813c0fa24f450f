"""An external FHIR client (fhirpy) reads a patient's record from a live Anagen server."""

from __future__ import annotations

import pytest
from django.conf import settings
from fhirpy import SyncFHIRClient

from anagen.clinic.accounts.roles import Role
from anagen.clinic.assessment.services import assessment_record
from tests.clinic.factories import PatientFactory, SiteFactory, UserFactory

from . import hl7

pytestmark = pytest.mark.django_db(transaction=True)


def _session_cookie(client, user) -> str:
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def test_fhirpy_reads_a_patient_record_from_a_live_server(live_server, client):
    site = SiteFactory(code="LDN")
    physician = UserFactory.at(Role.PHYSICIAN, site)
    patient = PatientFactory(site=site, family_name="Quill")
    assessment_record(
        actor=physician, patient=patient, pattern="thinning", norwood="III", ferritin=38
    )
    fhir = SyncFHIRClient(
        f"{live_server.url}/fhir",
        extra_headers={"Cookie": _session_cookie(client, physician)},
    )

    found = fhir.resources("Patient").search(identifier=patient.mrn).fetch_all()
    assert [p["id"] for p in found] == [str(patient.pk)]
    assert found[0]["name"][0]["family"] == "Quill"
    read = fhir.reference("Patient", patient.pk).to_resource()
    assert read["birthDate"] == patient.date_of_birth.isoformat()

    observations = fhir.resources("Observation").search(patient=f"Patient/{patient.pk}")
    codes = {o["code"]["coding"][0]["code"] for o in observations.fetch_all()}
    assert {"2276-4", "norwood-hamilton", "hair-loss-pattern"} <= codes
    conditions = fhir.resources("Condition").search(subject=patient.pk).fetch_all()
    assert conditions[0]["code"]["coding"][0]["code"] == "L64"

    bundle = fhir.execute(f"Patient/{patient.pk}/$everything", method="get")
    assert bundle["resourceType"] == "Bundle"
    assert hl7.schema_errors(bundle) == []
    assert {e["resource"]["resourceType"] for e in bundle["entry"]} >= {
        "Patient",
        "Condition",
        "Observation",
        "Organization",
        "Practitioner",
    }


def test_fhirpy_without_a_session_is_refused(live_server):
    from fhirpy.base.exceptions import AuthorizationError

    fhir = SyncFHIRClient(f"{live_server.url}/fhir")
    with pytest.raises(AuthorizationError) as refused:
        fhir.resources("Patient").search().fetch_all()
    assert "Sign in" in str(refused.value)
