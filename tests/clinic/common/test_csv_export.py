"""CSV download of the list pages: one helper, the rows the page shows, formulas neutralised."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from anagen.clinic.accounts.roles import Role
from anagen.clinic.common.csv_export import cell
from anagen.clinic.intake.services import inquiry_submit
from anagen.clinic.review import services as review_services
from anagen.clinic.treatment import services
from tests.clinic.factories import (
    AppointmentFactory,
    PatientFactory,
    SiteFactory,
    UserFactory,
    staff_at,
)
from tests.clinic.registry.seed import seed_patient
from tests.clinic.treatment_helpers import (
    consented_plan,
    harvest,
    make_candidate,
    released_product,
)

pytestmark = pytest.mark.django_db


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_cells_a_spreadsheet_would_run_are_neutralised():
    assert cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert cell("@SUM(A1)") == "'@SUM(A1)"
    assert cell("+44 20 7946 0000") == "+44 20 7946 0000"
    assert cell("-1+2") == "'-1+2"
    assert cell(None) == ""


def test_list_pages_download_what_they_show_and_only_the_reader_s_sites(client, site):
    other = SiteFactory(code="MAN")
    here = PatientFactory(site=site, family_name="Quill")
    PatientFactory(site=other, family_name="Elsewhere")
    inquiry_submit(full_name="=cmd|' /C calc'!A0", phone="+44 7700 900123", preferred_site=site)
    client.force_login(UserFactory.at(Role.COORDINATOR, site))

    patients = _rows(client.get("/patients/?format=csv"))
    assert patients[0][:3] == ["MRN", "Given name", "Family name"]
    assert [r[0] for r in patients[1:]] == [here.mrn]
    client.post("/patients/", {"q": "nobody"})  # the search is posted and kept, not put in a URL
    assert _rows(client.get("/patients/?format=csv"))[1:] == []

    inquiries = _rows(client.get("/inquiries/?format=csv"))
    assert inquiries[1][1].startswith("'=")  # a formula typed into the public form
    follow_ups = _rows(client.get("/treatment/follow-ups/?format=csv"))
    assert follow_ups[0][0] == "MRN"

    client.force_login(UserFactory.at(Role.LAB_TECHNICIAN, site))
    assert _rows(client.get("/treatment/lab/?format=csv"))[0][0] == "Product"


# --- every other list page: the rows it shows, only the reader's sites, formulas neutralised ---

FORMULA = '=HYPERLINK("http://evil.example","x")'


def _other_site_team():
    other = SiteFactory(code="MAN")
    return other, staff_at(other)


def test_day_and_week_views_download_the_appointments_they_show(client, site, staff):
    here = PatientFactory(site=site, given_name=FORMULA, family_name="Quill")
    booked = AppointmentFactory(patient=here, clinician=staff[Role.PHYSICIAN])
    other = SiteFactory(code="MAN")
    faraway = UserFactory.at(Role.PHYSICIAN, other, first_name="Otto", last_name="Faraway")
    there = PatientFactory(site=other, family_name="Elsewhere")
    AppointmentFactory(patient=there, clinician=faraway)
    client.force_login(staff[Role.COORDINATOR])
    day = timezone.localtime(booked.starts_at).date().isoformat()

    page = client.get("/day/", {"day": day})
    assert f"day={day}" in page.content.decode() and "format=csv" in page.content.decode()
    shown = [a for d in page.context["clinician_days"] for a in d.appointments]
    rows = _rows(client.get("/day/", {"day": day, "format": "csv"}))
    assert rows[0] == [
        "Day",
        "From",
        "To",
        "Clinician",
        "Appointment",
        "MRN",
        "Patient",
        "Clinic",
        "Status",
    ]
    assert len(rows[1:]) == len(shown) == 1
    (row,) = rows[1:]
    assert row[0] == day and row[1] == "10:00" and row[5] == here.mrn
    assert row[3] == staff[Role.PHYSICIAN].display_name and row[8] == "Booked"
    assert row[6] == "'" + here.full_name  # the patient's name as typed, never run
    assert there.mrn not in str(rows)
    # Another site chosen in the filter is not one of the reader's: nothing of it is sent.
    assert _rows(client.get("/day/", {"day": day, "site": other.pk, "format": "csv"}))[1:] in (
        [],
        rows[1:],
    )

    week = _rows(client.get("/week/", {"day": day, "format": "csv"}))
    assert week[0] == ["Clinician", "Role", "Day", "Appointments booked", "Free slots"]
    booked_cells = [r for r in week[1:] if r[3] != "0"]
    assert booked_cells == [
        [staff[Role.PHYSICIAN].display_name, "Physician", day, "1", booked_cells[0][4]]
    ]
    assert len(week[1:]) % 7 == 0  # every clinician shown has its seven days
    assert "Otto Faraway" not in {r[0] for r in week[1:]}


def _plan(staff, site, **names):
    physician, nurse = staff[Role.PHYSICIAN], staff[Role.NURSE]
    patient = PatientFactory(site=site, **names)
    make_candidate(physician, patient)
    return consented_plan(physician, nurse, patient)


def _stored(staff, site, *, freezer="LN2", **names):
    plan = _plan(staff, site, **names)
    lab = staff[Role.LAB_TECHNICIAN]
    product = released_product(staff[Role.PHYSICIAN], lab, plan)
    return services.product_store(
        actor=lab,
        product=product,
        freezer=freezer,
        rack="A",
        box="1",
        position="C4",
        expires_at=timezone.now() + timedelta(days=365),
    )


def test_the_lab_pages_download_the_products_they_show(client, site, staff):
    stored = _stored(staff, site, freezer="@LN2", family_name="Stored")
    processing = harvest(
        staff[Role.PHYSICIAN], _plan(staff, site, given_name=FORMULA, family_name="Wren")
    ).products.get()
    other, their_staff = _other_site_team()
    elsewhere = _stored(their_staff, other, family_name="Elsewhere")
    client.force_login(staff[Role.LAB_TECHNICIAN])

    assert "format=csv" in client.get("/treatment/lab/home/").content.decode()
    home = _rows(client.get("/treatment/lab/home/?format=csv"))
    assert home[0] == [
        "Product",
        "MRN",
        "Patient",
        "Status",
        "Method",
        "Location",
        "Expires",
        "Expiry warning",
        "Results still missing",
        "Results recorded by",
    ]
    by_mrn = {r[1]: r for r in home[1:]}
    assert set(by_mrn) == {stored.patient.mrn, processing.patient.mrn}
    assert by_mrn[stored.patient.mrn][3] == "Stored (cryo)"
    assert by_mrn[processing.patient.mrn][3] == "In processing"
    assert by_mrn[processing.patient.mrn][2] == "'" + processing.patient.full_name
    assert by_mrn[processing.patient.mrn][8]  # the results still to enter are named

    cryo_page = client.get("/treatment/lab/cryo/", {"q": stored.product_code[-6:]})
    assert "format=csv" in cryo_page.content.decode()
    cryo = _rows(client.get("/treatment/lab/cryo/?format=csv"))
    assert cryo[0] == [
        "Site",
        "Freezer",
        "Rack",
        "Box",
        "Position",
        "Product",
        "MRN",
        "Expires",
        "Matches the search",
    ]
    assert [r[5:7] for r in cryo[1:]] == [[stored.product_code, stored.patient.mrn]]
    assert cryo[1][1] == "'@LN2" and cryo[1][4] == "22 (C4)"  # a freezer named as a formula
    found = _rows(client.get("/treatment/lab/cryo/", {"q": stored.product_code, "format": "csv"}))
    assert found[1][8] == "yes"
    assert _rows(client.get("/treatment/lab/cryo/", {"q": "ZZZZZZ", "format": "csv"}))[1:] == []

    worklist = _rows(client.get("/treatment/lab/worklist/?format=csv"))
    assert worklist[0] == ["Task", "Product", "MRN", "Detail", "Expires"]
    assert [r[0] for r in worklist[1:]] == ["Process"]
    assert worklist[1][2] == processing.patient.mrn

    for downloaded in (home, cryo, worklist):
        assert elsewhere.patient.mrn not in str(downloaded)


def test_the_review_queue_downloads_its_blinded_pairs(client, site, staff, patient):
    from tests.clinic.review.test_review import _photos

    _photos(staff[Role.NURSE], patient, views=("top", "front"))
    assert review_services.review_pairs_create(actor=staff[Role.PHYSICIAN], patient=patient) == 2
    client.force_login(staff[Role.REVIEWER])
    assert "format=csv" in client.get("/review/").content.decode()
    body = _rows(client.get("/review/?format=csv"))
    assert body[0] == ["Pair", "View"]
    assert sorted(r[1] for r in body[1:]) == ["Front", "Top"]
    assert [r[0] for r in body[1:]] == ["1", "2"]
    assert patient.mrn not in str(body) and patient.family_name not in str(body)
    client.force_login(UserFactory.at(Role.REVIEWER, SiteFactory(code="MAN")))
    assert _rows(client.get("/review/?format=csv"))[1:] == []


def test_the_registry_statistics_download_the_table_of_the_page(client, site, staff):
    seed_patient(staff[Role.NURSE], site, n=1, densities={0: 100.0, 92: 120.0})
    other, their_staff = _other_site_team()
    seed_patient(their_staff[Role.NURSE], other, n=2, densities={0: 100.0, 92: 200.0})
    client.force_login(staff[Role.PHYSICIAN])
    page = client.get("/registry/")
    assert "format=csv" in page.content.decode()
    rows = _rows(client.get("/registry/?format=csv"))
    assert rows[0][:4] == ["Measure", "Window", "n", "Missing"]
    assert [r[1:] for r in rows[1:]] == [list(r.values()) for r in page.context["rows"]]
    counted = [r for r in rows[1:] if r[2] != "0"]
    assert len(counted) == 1 and counted[0][2] == "1"  # the other site's patient is not counted
    assert counted[0][4].startswith("20")  # +20 here; +60 would mix in the other site's


def test_the_audit_trail_downloads_through_the_same_helper(client, staff, patient):
    from anagen.clinic.audit import export

    assert not hasattr(export, "_FORMULA")  # one neutralising rule, the helper's
    patient.address = FORMULA
    patient.save()
    client.force_login(staff[Role.AUDITOR])
    response = client.get(f"/audit/patients/{patient.pk}/?format=csv")
    assert response["Content-Disposition"].startswith(f'attachment; filename="audit-{patient.mrn}-')
    rows = _rows(response)
    assert rows[0][:2] == ["when", "who"]
    assert any(r[8] == "'" + FORMULA for r in rows[1:])
