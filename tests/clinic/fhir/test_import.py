"""Import of a FHIR Bundle: dry-run report, all-or-nothing apply through the clinic's services,
structured errors for bad input, and the round trip export → empty clinic → export."""

from __future__ import annotations

import copy
import io
import json
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from anagen.clinic.accounts.roles import Role
from anagen.clinic.assessment.models import Assessment
from anagen.clinic.assessment.services import assessment_record
from anagen.clinic.common import clock
from anagen.clinic.fhir import codes
from anagen.clinic.fhir.services import ImportRefused, fhir_import_apply, fhir_import_plan
from anagen.clinic.patients.models import Patient
from tests.clinic.factories import PatientFactory, SiteFactory, UserFactory

from . import hl7

pytestmark = pytest.mark.django_db


def _foreign_bundle() -> dict:
    """A Bundle another system might send: a patient, androgenic alopecia with a Norwood
    stage, ferritin the same day, a density measured elsewhere, an unrelated resource."""
    # Local late morning 30 days ago, and two hours later the same day (whatever the time now).
    morning = timezone.localtime(clock.now() - timedelta(days=30)).replace(
        hour=10, minute=30, second=0, microsecond=0
    )
    when = morning.isoformat()
    later = (morning + timedelta(hours=2)).isoformat()
    patient = {"reference": "urn:uuid:7f0c3a52-0000-4000-8000-000000000001"}
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": patient["reference"],
                "resource": {
                    "resourceType": "Patient",
                    "name": [{"family": "Okonkwo", "given": ["Ada"]}],
                    "gender": "female",
                    "birthDate": "1988-04-02",
                    "telecom": [{"system": "email", "value": "ada.okonkwo@example.test"}],
                },
            },
            {
                "resource": {
                    "resourceType": "Condition",
                    "id": "c1",
                    "clinicalStatus": {"coding": [{"code": "active"}]},
                    "subject": patient,
                    "code": {"coding": [{"system": codes.ICD10, "code": "L64.9"}]},
                    "recordedDate": when,
                    "onsetAge": {"value": 30, "unit": "a"},
                }
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "id": "o1",
                    "status": "final",
                    "subject": patient,
                    "code": {"coding": [{"system": codes.LOINC, "code": "2276-4"}]},
                    "effectiveDateTime": later,
                    "valueQuantity": {"value": 22, "unit": "ug/L", "code": "ug/L"},
                }
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "id": "o2",
                    "status": "final",
                    "subject": patient,
                    "code": {
                        "coding": [
                            {"system": codes.code_system("anagen-hair-measures"), "code": "ludwig"}
                        ]
                    },
                    "effectiveDateTime": when,
                    "valueCodeableConcept": {
                        "coding": [{"system": codes.code_system("ludwig"), "code": "II"}]
                    },
                }
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "id": "o3",
                    "status": "final",
                    "subject": patient,
                    "code": {
                        "coding": [
                            {
                                "system": codes.code_system("anagen-hair-measures"),
                                "code": "hair-density",
                            }
                        ]
                    },
                    "effectiveDateTime": when,
                    "valueQuantity": {"value": 140, "unit": "/cm2", "code": "/cm2"},
                }
            },
            {"resource": {"resourceType": "Organization", "id": "x", "name": "Elsewhere"}},
        ],
    }


@pytest.fixture
def physician(site):
    return UserFactory.at(Role.PHYSICIAN, site)


def test_dry_run_reports_and_keeps_nothing_then_apply_imports(physician, site):
    bundle = _foreign_bundle()
    assert hl7.schema_errors(bundle) == []
    report = fhir_import_plan(actor=physician, site=site, raw=json.dumps(bundle))
    assert report.ok and report.dry_run
    assert Patient.objects.count() == 0 and Assessment.objects.count() == 0
    [planned] = report.patients
    assert planned.mrn  # the MRN it would get
    [assessment] = planned.assessments
    # Ferritin two hours later joins the day's diagnosis; the density is skipped, with why.
    assert assessment.fields == {
        "onset_age_years": 30,
        "ludwig": "II",
        "ferritin": 22,
        "pattern": "thinning",
    }
    skipped = {s.code for s in report.skipped}
    assert skipped == {"image_measure", "not_imported"}

    applied = fhir_import_apply(actor=physician, site=site, raw=json.dumps(bundle))
    patient = Patient.objects.get()
    assert applied.patients[0].mrn == patient.mrn
    assert (patient.given_name, patient.family_name, patient.sex) == ("Ada", "Okonkwo", "female")
    recorded = Assessment.objects.get()
    assert (recorded.ludwig, float(recorded.ferritin), recorded.onset_age_years) == ("II", 22, 30)
    assert recorded.assessed_by == physician and recorded.decision  # the engine decided
    assert "Condition/c1" in recorded.notes


def test_invalid_resource_is_a_structured_error_and_nothing_is_imported(physician, site):
    bundle = _foreign_bundle()
    broken = copy.deepcopy(bundle)
    broken["entry"][2]["resource"]["valueQuantity"]["value"] = "lots"  # wrong type
    broken["entry"][3]["resource"]["colour"] = "blue"  # unknown element
    report = fhir_import_plan(actor=physician, site=site, raw=json.dumps(broken))
    assert not report.ok
    where = {p.location for p in report.problems}
    assert any(w.startswith("entry[2].Observation.valueQuantity") for w in where), where
    assert any("colour" in w for w in where), where
    assert {p.code for p in report.problems} == {"invalid_resource"}
    with pytest.raises(ImportRefused) as refused:
        fhir_import_apply(actor=physician, site=site, raw=json.dumps(broken))
    assert refused.value.report.problems and Patient.objects.count() == 0

    for raw, code in (
        ("{not json", "malformed_json"),
        (json.dumps({"resourceType": "Patient"}), "not_a_bundle"),
    ):
        report = fhir_import_plan(actor=physician, site=site, raw=raw)
        assert [p.code for p in report.problems] == [code]

    # A wrong unit, and a second patient the clinic's rules refuse: nothing at all is kept.
    wrong_unit = copy.deepcopy(bundle)
    wrong_unit["entry"][2]["resource"]["valueQuantity"]["code"] = "ng/mL"
    report = fhir_import_plan(actor=physician, site=site, raw=wrong_unit)
    assert [p.code for p in report.problems] == ["wrong_unit"]
    implausible = copy.deepcopy(bundle)
    implausible["entry"][2]["resource"]["valueQuantity"]["value"] = -5
    with pytest.raises(ImportRefused) as refused:
        fhir_import_apply(actor=physician, site=site, raw=implausible)
    assert [p.code for p in refused.value.report.problems] == ["invalid_lab"]
    assert Patient.objects.count() == 0 and Assessment.objects.count() == 0


def test_a_possible_duplicate_is_refused_and_only_physicians_import(physician, site):
    PatientFactory(site=site, given_name="Ada", family_name="Okonkwo", date_of_birth="1988-04-02")
    report = fhir_import_plan(actor=physician, site=site, raw=_foreign_bundle())
    assert [p.code for p in report.problems] == ["possible_duplicate"]
    nurse = UserFactory.at(Role.NURSE, site)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        fhir_import_plan(actor=nurse, site=site, raw=_foreign_bundle())
    elsewhere = SiteFactory(code="MAN")
    with pytest.raises(PermissionDenied):  # the physician does not work there
        fhir_import_apply(actor=physician, site=elsewhere, raw=_foreign_bundle())
    assert Patient.objects.count() == 1


_ID = re.compile(r"^(Patient|Practitioner|Organization|Location)/[0-9]+$")


def _importable(bundle: dict) -> list[dict]:
    """The Patient, Condition and Observation resources (the importable ones), ids aside."""

    def scrub(value):
        if isinstance(value, dict):
            out = {k: scrub(v) for k, v in value.items() if k not in {"id", "fullUrl"}}
            if isinstance(out.get("reference"), str):
                out["reference"] = re.sub(r"/[0-9]+$", "/#", out["reference"])
                out["reference"] = re.sub(r"asm-[0-9]+", "asm-#", out["reference"])
            if out.get("system") == codes.system("mrn"):
                out["value"] = "#"
            return out
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value

    kept = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] in {"Patient", "Condition", "Observation"}
        and not e["resource"]["id"].startswith("tri-")
    ]
    return sorted((scrub(r) for r in kept), key=lambda r: json.dumps(r, sort_keys=True))


@pytest.mark.django_db(transaction=True)
def test_round_trip_export_import_into_an_empty_clinic_export_again():
    site = SiteFactory(code="LDN")
    physician = UserFactory.at(Role.PHYSICIAN, site)
    patient = PatientFactory(site=site, phone="+44 20 7946 0000", address="1 High St\nLondon")
    assessment_record(
        actor=physician,
        patient=patient,
        pattern="mixed",
        assessed_at=clock.now() - timedelta(days=200),
        norwood="III",
        savin="I-2",
        sinclair=2,
        onset_age_years=25,
        ferritin=41.5,
        vitamin_d=70,
    )
    assessment_record(actor=physician, patient=patient, pattern="shedding", tsh="1.85")
    first = io.StringIO()
    call_command("export_fhir", patient.mrn, stdout=first)
    exported = json.loads(first.getvalue())

    call_command("flush", interactive=False, verbosity=0)  # an empty clinic
    site = SiteFactory(code="LDN")
    physician = UserFactory.at(Role.PHYSICIAN, site)  # the same physician, new account
    report = fhir_import_apply(actor=physician, site=site, raw=first.getvalue())
    assert report.ok and report.assessments == 2
    again = io.StringIO()
    call_command("export_fhir", report.patients[0].mrn, stdout=again)
    reexported = json.loads(again.getvalue())

    before, after = _importable(exported), _importable(reexported)
    assert len(before) == 1 + 2 + 8  # patient, two conditions, eight observations
    assert after == before


def test_the_staff_page_checks_then_imports_once(client, physician, site):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from anagen.clinic.common.forms import SUBMISSION_TOKEN, submission_token_input

    client.force_login(physician)
    assert client.get("/imports/fhir/").status_code == 200
    raw = json.dumps(_foreign_bundle()).encode()
    checked = client.post(
        "/imports/fhir/",
        {"site": site.pk, "action": "check", "bundle": SimpleUploadedFile("b.json", raw)},
    )
    page = checked.content.decode()
    assert checked.status_code == 200 and "Check passed: nothing saved yet" in page
    assert "Okonkwo" in page and Patient.objects.count() == 0
    form = checked.context["apply_form"]
    token = submission_token_input()
    post = {
        "site": site.pk,
        "raw": form.initial["raw"],
        "action": "apply",
        SUBMISSION_TOKEN: token,
    }
    applied = client.post("/imports/fhir/", post)
    assert applied.status_code == 302 and Patient.objects.count() == 1
    again = client.post("/imports/fhir/", post)  # Back and resubmit: imported once
    assert again.status_code == 302 and Patient.objects.count() == 1

    broken = json.dumps(
        {
            "resourceType": "Bundle",
            "entry": [{"resource": {"resourceType": "Patient", "birthDate": "soon"}}],
        }
    )
    refused = client.post(
        "/imports/fhir/",
        {
            "site": site.pk,
            "action": "check",
            "bundle": SimpleUploadedFile("b.json", broken.encode()),
        },
    )
    assert refused.status_code == 400
    assert "Not imported: 1 problem" in refused.content.decode()
    assert refused.context["apply_form"] is None


def test_the_command_checks_and_imports(tmp_path, physician, site):
    from django.core.management.base import CommandError

    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(_foreign_bundle()))
    out = io.StringIO()
    call_command("import_fhir", str(path), "--site", site.code, "--as", physician.email, stdout=out)
    assert json.loads(out.getvalue())["dry_run"] is True and Patient.objects.count() == 0
    out = io.StringIO()
    call_command(
        "import_fhir",
        str(path),
        "--site",
        site.code,
        "--as",
        physician.email,
        "--apply",
        stdout=out,
    )
    assert json.loads(out.getvalue())["ok"] and Patient.objects.count() == 1
    path.write_text("{broken")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_fhir",
            str(path),
            "--site",
            site.code,
            "--as",
            physician.email,
            "--apply",
            stdout=out,
        )
    assert json.loads(out.getvalue())["problems"][0]["code"] == "malformed_json"


def test_a_bundle_nested_too_deeply_is_a_clear_problem_not_a_crash():
    from anagen.clinic.fhir.services import bundle_load

    entries, problems = bundle_load('{"resourceType": "Bundle", "entry": ' + "[" * 100_000)
    assert entries == [] and [p.code for p in problems] == ["malformed_json"]
