"""Legacy spreadsheets: column mapping, validation, dry run, all-or-nothing apply."""

from __future__ import annotations

import io
import json

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from anagen.clinic.accounts.roles import Role
from anagen.clinic.assessment.models import Assessment
from anagen.clinic.common.forms import SUBMISSION_TOKEN, submission_token_input
from anagen.clinic.patients.models import Patient
from anagen.clinic.spreadsheets.services import (
    TableRefused,
    table_import_apply,
    table_import_plan,
)
from tests.clinic.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

PATIENTS_CSV = (
    b"First name,Surname,DOB,Gender,Mobile,Nachweis\n"
    b"Ada,Okonkwo,02/04/1988,F,+44 7700 900001,x\n"
    b"Bram,Visser,1979-11-30,male,,y\n"
)


@pytest.fixture
def physician(site):
    return UserFactory.at(Role.PHYSICIAN, site)


def test_patient_list_dry_run_then_apply(physician, site):
    report = table_import_plan(
        actor=physician, site=site, kind="patients", data=PATIENTS_CSV, filename="old.csv"
    )
    assert report.ok, report.problems
    assert report.mapping == {
        "First name": "given_name",
        "Surname": "family_name",
        "DOB": "date_of_birth",
        "Gender": "sex",
        "Mobile": "phone",
    }
    assert report.ignored_columns == ["Nachweis"]
    assert [r.result.split(" as ")[0] for r in report.rows] == [
        "Register Ada Okonkwo",
        "Register Bram Visser",
    ]
    assert Patient.objects.count() == 0
    table_import_apply(
        actor=physician, site=site, kind="patients", data=PATIENTS_CSV, filename="old.csv"
    )
    ada = Patient.objects.get(family_name="Okonkwo")
    assert (str(ada.date_of_birth), ada.sex, ada.phone) == (
        "1988-04-02",
        "female",
        "+44 7700 900001",
    )
    assert Patient.objects.count() == 2


def test_broken_rows_are_reported_and_nothing_is_imported(physician, site):
    broken = (
        PATIENTS_CSV
        + b"Cy,Moreau,31/02/1990,F,,\nDee,,1990-01-01,unknown-ish,,\nEd,Roe,2999-01-01,M,,\n"
    )
    report = table_import_plan(
        actor=physician, site=site, kind="patients", data=broken, filename="old.csv"
    )
    # One check reports every problem, the services' refusals of the readable rows included,
    # in the file's words and in row order.
    assert [(p.location, p.code) for p in report.problems] == [
        ("row 4, Date of birth", "bad_value"),
        ("row 5, Family name", "bad_value"),
        ("row 5, Sex", "bad_value"),
        ("row 6, Date of birth", "date_of_birth"),
    ]
    with pytest.raises(TableRefused):
        table_import_apply(
            actor=physician, site=site, kind="patients", data=broken, filename="a.csv"
        )
    assert Patient.objects.count() == 0
    # A row the service refuses (a possible duplicate) stops every row.
    PatientFactory(site=site, given_name="Bram", family_name="Visser", date_of_birth="1979-11-30")
    with pytest.raises(TableRefused) as refused:
        table_import_apply(
            actor=physician, site=site, kind="patients", data=PATIENTS_CSV, filename="a.csv"
        )
    assert [p.code for p in refused.value.report.problems] == ["possible_duplicate"]
    assert Patient.objects.count() == 1
    # Unreadable files and missing columns.
    for data, name, code in (
        (b"\xff\xfe\x00bad", "x.csv", "unreadable"),
        (b"a,b", "x.txt", "unknown_format"),
        (b"Given name,DOB\nA,2000-01-01\n", "x.csv", "missing_column"),
        (b"not a zip", "x.xlsx", "unreadable"),
    ):
        report = table_import_plan(
            actor=physician, site=site, kind="patients", data=data, filename=name
        )
        assert code in {p.code for p in report.problems}, (name, report.problems)


def test_measurement_table_from_xlsx_with_a_column_mapping(physician, site):
    patient = PatientFactory(site=site)
    sheet = tablib.Dataset(headers=["Patient", "Date", "Pattern", "Norwood", "Ferritin", "Hb"])
    sheet.append([patient.mrn, "2025-03-04", "thinning", "III", 35.5, 13.9])
    sheet.append([patient.mrn, "2025-09-04", "mixed", "IV", "28,0", None])
    data = sheet.export("xlsx")
    report = table_import_apply(
        actor=physician,
        site=site,
        kind="measurements",
        data=data,
        filename="labs.xlsx",
        mapping={"Patient": "mrn"},
    )
    assert report.ok and len(report.rows) == 2
    first, second = Assessment.objects.filter(patient=patient).order_by("assessed_at")
    assert (first.norwood, float(first.ferritin), float(first.haemoglobin)) == ("III", 35.5, 13.9)
    assert (second.pattern, float(second.ferritin), second.haemoglobin) == ("mixed", 28.0, None)
    assert first.decision  # the eligibility engine decided

    unknown = tablib.Dataset(headers=["MRN", "Date", "Pattern"])
    unknown.append(["AN9999999", "2025-03-04", "thinning"])
    bad = table_import_plan(
        actor=physician,
        site=site,
        kind="measurements",
        data=unknown.export("csv").encode(),
        filename="m.csv",
    )
    assert [p.code for p in bad.problems] == ["unknown_patient"]
    wrong = table_import_plan(
        actor=physician,
        site=site,
        kind="measurements",
        data=data,
        filename="labs.xlsx",
        mapping={"Patient": "MRN", "Nope": "Ferritin (µg/L)"},
    )
    assert [p.code for p in wrong.problems] == ["bad_mapping"]
    unknown_field = table_import_plan(
        actor=physician,
        site=site,
        kind="measurements",
        data=data,
        filename="labs.xlsx",
        mapping={"Patient": "colour"},
    )
    assert {p.code for p in unknown_field.problems} == {"bad_mapping", "missing_column"}


def test_the_page_checks_then_imports_once(client, physician, site):
    client.force_login(physician)
    assert client.get("/imports/spreadsheet/").status_code == 200
    checked = client.post(
        "/imports/spreadsheet/",
        {
            "action": "check",
            "kind": "patients",
            "site": site.pk,
            "table": SimpleUploadedFile("old.csv", PATIENTS_CSV),
            "mapping": "",
            SUBMISSION_TOKEN: submission_token_input(),
        },
    )
    assert checked.status_code == 200 and "Check passed" in checked.content.decode()
    assert Patient.objects.count() == 0
    post = {
        **checked.context["checked"],
        "action": "apply",
        SUBMISSION_TOKEN: submission_token_input(),
    }
    assert client.post("/imports/spreadsheet/", post).status_code == 302
    assert client.post("/imports/spreadsheet/", post).status_code == 302  # resubmitted: once
    assert Patient.objects.count() == 2
    refused = client.post(
        "/imports/spreadsheet/",
        {
            "action": "check",
            "kind": "patients",
            "site": site.pk,
            "table": SimpleUploadedFile("x.csv", b"Given name\nA\n"),
            "mapping": "",
        },
    )
    assert refused.status_code == 400 and "Not imported" in refused.content.decode()


def test_the_command(tmp_path, physician, site):
    path = tmp_path / "old.csv"
    path.write_bytes(PATIENTS_CSV)
    args = [str(path), "--kind", "patients", "--site", site.code, "--as", physician.email]
    out = io.StringIO()
    call_command("import_table", *args, stdout=out)
    assert json.loads(out.getvalue())["dry_run"] and Patient.objects.count() == 0
    call_command("import_table", *args, "--apply", stdout=io.StringIO())
    assert Patient.objects.count() == 2
    with pytest.raises(CommandError):
        call_command("import_table", *args, "--map", "broken", stdout=io.StringIO())
