"""Export of all of one patient's data: a zip from the chart (privacy officer) or a command."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.privacy.error_codes import PrivacyErrorCode as Code
from anagen.clinic.privacy.models import PrivacyEvent
from anagen.clinic.privacy.services import EXPORT_FORMAT, patient_data_export
from tests.clinic.conftest import make_user
from tests.clinic.factories import PatientFactory
from tests.clinic.refusals import raises_code

from .conftest import EMAIL, FAMILY

pytestmark = pytest.mark.django_db

REASON = "Subject access request of 2 Dec 2026"


def _open(data: bytes) -> tuple[dict, zipfile.ZipFile]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return json.loads(archive.read("data.json")), archive


def _check_contents(document: dict, archive: zipfile.ZipFile, person) -> None:
    patient = person["patient"]
    assert document["format"] == EXPORT_FORMAT and document["patient_mrn"] == patient.mrn
    records = document["records"]
    (row,) = records["patients.Patient"]
    assert row["fields"]["family_name"] == FAMILY and row["fields"]["email"] == EMAIL
    for label in (
        "intake.Inquiry",
        "intake.InquiryNote",
        "assessment.Assessment",
        "treatment.TreatmentPlan",
        "treatment.Consent",
        "imaging.ImagingVisit",
        "imaging.GlobalPhoto",
        "imaging.TrichoscopyImage",
        "registry.OutcomeRecord",
    ):
        assert records.get(label), f"{label} missing from the export"
    ids = {r["id"] for r in records["imaging.TrichoscopyImage"]}
    assert person["trichoscopy"].pk in ids
    # Every stored file named in a row is in the zip, with the bytes from storage.
    named = [
        value
        for rows in records.values()
        for r in rows
        for value in r["fields"].values()
        if isinstance(value, str) and value.startswith("files/")
    ]
    assert len(named) >= 6  # identity photo, 2 global photos, 2 trichoscopy + overlays, consent
    assert set(named) <= set(archive.namelist())
    image = person["trichoscopy"].image
    with image.open("rb") as handle:
        original = handle.read()
    (entry,) = [
        r for r in records["imaging.TrichoscopyImage"] if r["id"] == person["trichoscopy"].pk
    ]
    assert archive.read(entry["fields"]["image"]) == original
    # Secrets of the clinic's own records are not part of anyone's export.
    text = json.dumps(document)
    assert "submission_token" not in text and "record_digest" not in text


def test_export_service_writes_everything_and_logs_it(staff, person):
    out = io.BytesIO()
    event = patient_data_export(
        actor=staff[Role.ADMINISTRATOR], patient=person["patient"], reason=REASON, out=out
    )
    document, archive = _open(out.getvalue())
    _check_contents(document, archive, person)
    assert (event.kind, event.actor, event.reason) == (
        "export",
        staff[Role.ADMINISTRATOR],
        REASON,
    )
    assert event.summary["records"]["patients.Patient"] == 1


def test_export_holds_only_this_patients_records(staff, person, site):
    other = PatientFactory(site=site, given_name="Osric", family_name="Pellow")
    out = io.BytesIO()
    patient_data_export(
        actor=staff[Role.ADMINISTRATOR], patient=person["patient"], reason=REASON, out=out
    )
    text = out.getvalue().decode("latin-1")
    assert "Pellow" not in text and other.mrn not in text


def test_export_refusals(staff, person, other_site):
    patient = person["patient"]
    for actor in (
        staff[Role.PHYSICIAN],
        staff[Role.AUDITOR],
        make_user(Role.ADMINISTRATOR, other_site),
    ):
        with pytest.raises(PermissionDenied):
            patient_data_export(actor=actor, patient=patient, reason=REASON, out=io.BytesIO())
    with raises_code(Code.REASON_REQUIRED, "reason"):
        patient_data_export(
            actor=staff[Role.ADMINISTRATOR], patient=patient, reason=" ", out=io.BytesIO()
        )
    assert not PrivacyEvent.objects.exists()


def test_export_page_downloads_the_zip(client, staff, person, other_site):
    patient = person["patient"]
    url = reverse("privacy:export", args=[patient.pk])
    client.force_login(staff[Role.ADMINISTRATOR])
    assert url in client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    page = client.get(url)
    assert page.status_code == 200 and "Download the export" in page.content.decode()
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 200 and "This field is required" in refused.content.decode()
    response = client.post(url, {"reason": REASON})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "no-store"
    assert f'filename="patient-{patient.pk}-data.zip"' in response["Content-Disposition"]
    assert patient.mrn not in response["Content-Disposition"]
    document, archive = _open(b"".join(response.streaming_content))
    _check_contents(document, archive, person)
    assert PrivacyEvent.objects.get().actor == staff[Role.ADMINISTRATOR]
    # Not for clinical roles; another site's administrator does not even see the patient.
    client.force_login(staff[Role.PHYSICIAN])
    assert (
        "Export all data"
        not in client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    )
    assert client.post(url, {"reason": REASON}).status_code == 403
    client.force_login(make_user(Role.ADMINISTRATOR, other_site))
    assert client.post(url, {"reason": REASON}).status_code == 404
    assert PrivacyEvent.objects.count() == 1


def test_export_command(staff, person, tmp_path):
    patient = person["patient"]
    out = tmp_path / "export.zip"
    admin = staff[Role.ADMINISTRATOR]
    args = [patient.mrn, "--out", str(out), "--reason", REASON]
    stdout = io.StringIO()
    call_command("export_patient_data", *args, "--as", admin.email, stdout=stdout)
    assert "records exported to" in stdout.getvalue()
    document, archive = _open(out.read_bytes())
    _check_contents(document, archive, person)
    with pytest.raises(CommandError, match="exists already"):
        call_command("export_patient_data", *args, "--as", admin.email)
    out.unlink()
    with pytest.raises(CommandError, match="Only an administrator"):
        call_command("export_patient_data", *args, "--as", staff[Role.PHYSICIAN].email)
    assert not out.exists()
    with pytest.raises(CommandError, match="No patient"):
        call_command(
            "export_patient_data",
            "A9999999",
            "--out",
            str(out),
            "--reason",
            "r",
            "--as",
            admin.email,
        )
    assert PrivacyEvent.objects.count() == 1
