"""What Anagen emits as FHIR R5: valid by HL7's own JSON Schema and the fhir.resources models,
the clinic's content in the right elements, each resource readable on its own, search."""

from __future__ import annotations

import io
import json
import logging
from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from anagen.clinic.accounts.roles import Role
from anagen.clinic.fhir import codes, resources
from anagen.identity.checkchar import is_valid
from tests.clinic.factories import PatientFactory, SiteFactory, UserFactory

from . import hl7

pytestmark = pytest.mark.django_db


def _get(client, url: str, status: int = 200) -> dict:
    response = client.get(url)
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/fhir+json")
    return response.json()


def _by_id(bundle: dict) -> dict[str, dict]:
    return {
        f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"]
        for e in bundle["entry"]
    }


def test_everything_is_valid_r5_and_says_what_the_clinic_recorded(client, world):
    objects = world["objects"]
    patient = objects["patient"]
    client.force_login(world["staff"][Role.AUDITOR])
    bundle = _get(client, f"/fhir/Patient/{patient.pk}/$everything")

    # Valid by HL7's own definitions: the Bundle and every resource in it.
    assert hl7.schema_errors(bundle) == []
    assert hl7.model_errors(bundle) == []
    errors = []
    for entry in bundle["entry"]:
        errors += hl7.schema_errors(entry["resource"]) + hl7.model_errors(entry["resource"])
        # Codes of HL7's required value sets (which the JSON Schema does not check).
        errors += hl7.binding_errors(entry["resource"])
    assert errors == []
    kinds = Counter(entry["resource"]["resourceType"] for entry in bundle["entry"])
    assert set(resources.TYPES) - {"CodeSystem"} <= set(kinds), set(resources.TYPES) - set(kinds)
    assert bundle["entry"][0]["resource"]["resourceType"] == "Patient"
    assert bundle["total"] == len(bundle["entry"])
    found = _by_id(bundle)

    # Patient: the MRN as its identifier.
    pat = found[f"Patient/{patient.pk}"]
    assert pat["identifier"][0] == {**pat["identifier"][0], "value": patient.mrn}
    assert pat["birthDate"] == patient.date_of_birth.isoformat()

    # Condition: ICD-10 L64, staged by an Observation that is in the Bundle.
    labs = objects["labs"]
    condition = found[f"Condition/asm-{labs.pk}"]
    assert condition["code"]["coding"][0]["system"] == codes.ICD10
    assert condition["code"]["coding"][0]["code"] == "L64"
    stage_ref = condition["stage"][0]["assessment"][0]["reference"]
    stage = found[stage_ref]
    assert stage["valueCodeableConcept"]["coding"][0]["code"] == "IV"
    assert condition["onsetAge"]["value"] == 28

    # Labs with LOINC and UCUM.
    ferritin = found[f"Observation/asm-{labs.pk}-ferritin"]
    assert ferritin["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "2276-4",
        "display": "Ferritin [Mass/volume] in Serum or Plasma",
    }
    assert ferritin["valueQuantity"]["value"] == 45
    assert ferritin["valueQuantity"]["code"] == "ug/L"
    assert found[f"Observation/asm-{labs.pk}-tsh"]["valueQuantity"]["value"] == 2.1

    # Hair measures: the local CodeSystem, UCUM /cm2 and um, derived from the image.
    image = objects["trichoscopy"]
    image.refresh_from_db()
    density = found[f"Observation/tri-{image.pk}-hair-density"]
    assert density["code"]["coding"][0]["system"] == codes.code_system("anagen-hair-measures")
    assert density["valueQuantity"]["code"] == "/cm2"
    assert density["valueQuantity"]["system"] == "http://unitsofmeasure.org"
    assert density["valueQuantity"]["value"] == pytest.approx(image.density_per_cm2, abs=2e-3)
    assert density["derivedFrom"][0]["reference"] in found  # the image's DocumentReference
    diameter = found[f"Observation/tri-{image.pk}-mean-diameter"]
    assert diameter["valueQuantity"]["code"] == "um"
    counts = found[f"Observation/tri-{image.pk}-terminal-count"]["valueQuantity"]["value"]
    assert counts == image.terminal_count

    # The cell product: donation identifier with a valid check character, autologous only.
    product = objects["product"]
    bdp = found[f"BiologicallyDerivedProduct/{product.pk}"]
    donation = bdp["biologicalSourceEvent"]["value"]
    assert donation == product.harvest.donation_code and is_valid(donation)
    autologous = [p for p in bdp["property"] if p["type"]["coding"][0]["code"] == "collectiontype"]
    assert autologous[0]["valueCodeableConcept"]["coding"][0]["display"] == (
        "For Autologous Use Only"
    )
    assert bdp["collection"]["source"]["reference"] == f"Patient/{patient.pk}"
    # ... and its return to the same patient.
    session = objects["session"]
    dispense = found[f"BiologicallyDerivedProductDispense/{session.pk}"]
    assert dispense["originRelationshipType"]["coding"][0]["code"] == "autologous"
    assert dispense["patient"] == {"reference": f"Patient/{patient.pk}"}
    assert dispense["product"]["reference"] == f"BiologicallyDerivedProduct/{product.pk}"
    specimen = found[f"Specimen/{product.harvest.pk}"]
    assert specimen["type"]["text"] in {"Lipoaspirate", "Scalp tissue (punch)"}

    # Consent with its signed PDF; AdverseEvent; the audit trail.
    consent = objects["consent"]
    assert found[f"Consent/{consent.pk}"]["sourceReference"][0]["reference"] in found
    assert found[f"AdverseEvent/{objects['adverse_event'].pk}"]["code"]["text"] == "Bruising"
    assert kinds["AuditEvent"] > 10

    # Every resource in the Bundle reads back on its own, identical.
    for key, resource in found.items():
        assert _get(client, f"/fhir/{key}") == resource, key


def test_products_use_the_official_autologous_examples_structure(client, world):
    """Anagen's BiologicallyDerivedProduct and Dispense use the element paths of HL7's
    official R5 examples (the autologous HCT product; the dispense example)."""
    client.force_login(world["staff"][Role.PHYSICIAN])
    product, session = world["objects"]["product"], world["objects"]["session"]
    ours = _get(client, f"/fhir/BiologicallyDerivedProduct/{product.pk}")
    official = hl7.example("BiologicallyDerivedProduct-autologousHCT")
    # Not used by Anagen: the narrative, HL7's test tag and the ServiceRequest (none here).
    left_out = {"text", "meta", "request"}
    wanted = {p for p in hl7.element_paths(official) if p.split(".")[0] not in left_out}
    # The example names the patient by display; Anagen by reference only (no PHI in links).
    assert wanted - hl7.element_paths(ours) == {"collection.source.display"}
    # The same coded statement of autologous use as the official example.
    official_use = next(
        p["valueCodeableConcept"]["coding"][0]
        for p in official["property"]
        if p["type"]["coding"][0]["code"] == "CollectionType"
    )
    our_use = next(
        p["valueCodeableConcept"]["coding"][0]
        for p in ours["property"]
        if p["type"]["coding"][0]["code"] == "collectiontype"
    )
    assert our_use == official_use

    dispense = _get(client, f"/fhir/BiologicallyDerivedProductDispense/{session.pk}")
    official = hl7.example("BiologicallyDerivedProductDispense-example")
    wanted = {p for p in hl7.element_paths(official) if p.split(".")[0] not in {"meta", "text"}}
    # The example names the patient by display; Anagen by reference only (no PHI in links).
    assert wanted - hl7.element_paths(dispense) == {"patient.display"}
    assert hl7.schema_errors(dispense) == [] and hl7.schema_errors(ours) == []


def test_search_metadata_and_code_system(client, world):
    objects = world["objects"]
    patient = objects["patient"]
    client.force_login(world["staff"][Role.PHYSICIAN])
    found = _get(client, f"/fhir/Patient?identifier={patient.mrn}")
    assert [e["resource"]["id"] for e in found["entry"]] == [str(patient.pk)]
    assert found["total"] == 1
    assert _get(client, "/fhir/Patient?identifier=NOPE")["total"] == 0
    # FHIR's POST search: the identifier travels in the body, not the URL.
    form = "application/x-www-form-urlencoded"
    posted = client.post("/fhir/Patient/_search", f"identifier={patient.mrn}", content_type=form)
    assert posted.status_code == 200, posted.content
    assert posted.json()["total"] == 1
    assert patient.mrn not in posted.json()["link"][0]["url"]
    assert client.post("/fhir/Patient/_search", "colour=blue", content_type=form).status_code == 400
    assert client.post("/fhir/Unicorn/_search", "", content_type=form).status_code == 404
    # Paging a POST search: no `next` link (it would carry the terms); post again with _offset.
    page_one = client.post("/fhir/Observation/_search", "_count=1", content_type=form).json()
    assert [link["relation"] for link in page_one["link"]] == ["self"]
    page_two = client.post("/fhir/Observation/_search", "_count=1&_offset=1", content_type=form)
    first_urls = {e["fullUrl"] for e in page_one["entry"]}
    assert page_two.status_code == 200
    assert first_urls.isdisjoint(e["fullUrl"] for e in page_two.json()["entry"])
    # The terms in the body only: not in the query string, never by GET, no NUL characters.
    both = client.post(
        f"/fhir/Patient/_search?identifier={patient.mrn}", "_count=5", content_type=form
    )
    assert both.status_code == 400 and "body only" in both.json()["issue"][0]["diagnostics"]
    assert client.get(f"/fhir/Patient/_search?identifier={patient.mrn}").status_code == 405
    nul = client.post("/fhir/Patient/_search", "identifier=a%00b", content_type=form)
    assert nul.status_code == 400 and _get(client, "/fhir/Patient?identifier=a%00b", 400)
    multipart = client.post("/fhir/Patient/_search", {"identifier": patient.mrn})
    assert (
        multipart.status_code == 415
        and "form-encoded" in multipart.json()["issue"][0]["diagnostics"]
    )
    system = codes.code_system("anagen-hair-measures")
    densities = _get(
        client, f"/fhir/Observation?patient=Patient/{patient.pk}&code={system}|hair-density"
    )
    assert [e["resource"]["code"]["coding"][0]["code"] for e in densities["entry"]] == [
        "hair-density"
    ]
    loinc = _get(client, f"/fhir/Observation?subject={patient.pk}&code=http://loinc.org|718-7")
    assert loinc["entry"][0]["resource"]["valueQuantity"]["value"] == 14.2
    page = _get(client, "/fhir/Observation?_count=1")
    assert len(page["entry"]) >= 1 and page["link"][1]["relation"] == "next"
    assert hl7.schema_errors(page) == []
    bad = _get(client, "/fhir/Patient?colour=blue", 400)
    assert bad["resourceType"] == "OperationOutcome"
    assert "colour" in bad["issue"][0]["diagnostics"]
    assert _get(client, "/fhir/Observation?patient=Patient/x", 400)["issue"][0]["code"]
    assert _get(client, "/fhir/Unicorn", 404)["resourceType"] == "OperationOutcome"
    assert _get(client, "/fhir/Patient/999999", 404)["resourceType"] == "OperationOutcome"

    metadata = _get(client, "/fhir/metadata")
    assert metadata["fhirVersion"] == "5.0.0"
    assert {r["type"] for r in metadata["rest"][0]["resource"]} == set(resources.TYPES)
    assert hl7.schema_errors(metadata) == [] and hl7.model_errors(metadata) == []
    assert hl7.binding_errors(metadata) == []
    code_system = _get(client, "/fhir/CodeSystem/anagen-hair-measures")
    assert code_system["url"] == system
    assert hl7.schema_errors(code_system) == []


def test_access_is_the_policy_and_the_reader_s_sites(client, site):
    other = SiteFactory(code="MAN")
    here = PatientFactory(site=site)
    there = PatientFactory(site=other)
    nurse = UserFactory.at(Role.NURSE, site)
    coordinator = UserFactory.at(Role.COORDINATOR, site)

    # Not signed in: 401 as an OperationOutcome, never a redirect to a login page.
    assert _get(client, f"/fhir/Patient/{here.pk}", 401)["issue"][0]["code"] == "login"
    # The CapabilityStatement is open (discovery before sign-in); it names no one.
    open_metadata = client.get("/fhir/metadata")
    assert open_metadata.status_code == 200
    assert open_metadata.json()["resourceType"] == "CapabilityStatement"
    assert here.family_name not in open_metadata.content.decode()
    assert _get(client, "/fhir/Patient", 401)["issue"][0]["code"] == "login"
    client.force_login(coordinator)  # the front desk does not read FHIR
    assert _get(client, f"/fhir/Patient/{here.pk}", 403)["issue"][0]["code"] == "forbidden"
    client.force_login(nurse)
    assert _get(client, f"/fhir/Patient/{here.pk}")["id"] == str(here.pk)
    assert _get(client, f"/fhir/Patient/{there.pk}", 404)["resourceType"] == "OperationOutcome"
    assert _get(client, f"/fhir/Patient/{there.pk}/$everything", 404)
    listed = _get(client, "/fhir/Patient")
    assert [e["resource"]["id"] for e in listed["entry"]] == [str(here.pk)]
    # A nurse reads no audit trail: refused as a type, absent from $everything.
    assert _get(client, f"/fhir/AuditEvent?patient={here.pk}", 403)
    kinds = {
        e["resource"]["resourceType"]
        for e in _get(client, f"/fhir/Patient/{here.pk}/$everything")["entry"]
    }
    assert "AuditEvent" not in kinds and "Patient" in kinds
    assert client.post("/fhir/Patient").status_code in (403, 405)


def test_export_fhir_writes_the_everything_bundle(client, world, caplog):
    patient = world["objects"]["patient"]
    out = io.StringIO()
    with caplog.at_level(logging.DEBUG):
        call_command("export_fhir", patient.mrn, "--base", "http://testserver/fhir/", stdout=out)
    exported = json.loads(out.getvalue())
    assert hl7.schema_errors(exported) == []
    client.force_login(world["staff"][Role.AUDITOR])
    served = _get(client, f"/fhir/Patient/{patient.pk}/$everything")
    assert [e["fullUrl"] for e in exported["entry"]] == [e["fullUrl"] for e in served["entry"]]
    assert exported["entry"] == served["entry"]
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert patient.family_name not in logged and patient.mrn not in logged
    with pytest.raises(CommandError) as refused:
        call_command("export_fhir", "ZZ-NOT-AN-MRN", stdout=io.StringIO())
    assert "ZZ-NOT-AN-MRN" not in str(refused.value)
