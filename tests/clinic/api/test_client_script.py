"""The client script of docs/api.md, run as a separate program against a live server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from anagen.clinic.accounts.roles import Role
from anagen.clinic.assessment.models import Assessment
from anagen.clinic.intake.models import Appointment
from tests.clinic.factories import PatientFactory, SiteFactory, staff_at

from .conftest import token_for

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "docs" / "api_client.py"


def test_the_docs_show_the_script_that_is_tested():
    doc = (ROOT / "docs" / "api.md").read_text()
    block = doc.split("<!-- api_client.py -->\n```python\n", 1)[1].split("```\n", 1)[0]
    assert block == SCRIPT.read_text()


@pytest.mark.slow(10)
@pytest.mark.django_db(transaction=True)
def test_the_client_script_books_assesses_and_reads_through_the_api(live_server):
    site = SiteFactory(code="LDN")
    staff = staff_at(site)
    patient = PatientFactory(site=site, created_by=staff[Role.COORDINATOR])
    token = token_for(staff[Role.PHYSICIAN])
    env = {**os.environ, "ANAGEN_URL": live_server.url, "ANAGEN_TOKEN": token}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), patient.mrn],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Eligibility: candidate" in done.stdout
    record = json.loads(done.stdout.split("\n", 3)[3])
    assert record["patient"]["mrn"] == patient.mrn
    assert [a["kind"] for a in record["appointments"]] == ["consult"]
    assert len(record["assessments"]) == 1
    # The patient's $everything, read through the FHIR endpoint with the same token: a Bundle of
    # this patient's resources, the booking and the assessment just made among them.
    everything = record["everything"]
    assert everything["resourceType"] == "Bundle"
    resources = [e["resource"] for e in everything["entry"]]
    patients = [r for r in resources if r["resourceType"] == "Patient"]
    assert [p["id"] for p in patients] == [str(patient.pk)]
    assert patient.mrn in {i["value"] for i in patients[0]["identifier"]}
    kinds = {r["resourceType"] for r in resources}
    assert {"Patient", "Appointment", "Condition", "Observation"} <= kinds, kinds
    (appointment,) = [r for r in resources if r["resourceType"] == "Appointment"]
    assert appointment["id"] == str(record["appointments"][0]["id"])
    subjects = {r["subject"]["reference"] for r in resources if isinstance(r.get("subject"), dict)}
    assert subjects == {f"Patient/{patient.pk}"}  # nobody else's record
    assert f"FHIR $everything: {len(resources)} resources" in done.stdout
    assert Appointment.objects.get(patient=patient).clinician == staff[Role.PHYSICIAN]
    assert Assessment.objects.get(patient=patient).assessed_by == staff[Role.PHYSICIAN]
    # A refusal comes back as the API's structured error, and the script stops with it.
    refused = subprocess.run(
        [sys.executable, str(SCRIPT), patient.mrn],
        env={**env, "ANAGEN_TOKEN": "ank_revoked"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode != 0
    assert "authentication_failed" in refused.stderr
