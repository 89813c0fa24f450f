"""CSV download of the list pages: one helper, the rows the page shows, formulas neutralised."""

from __future__ import annotations

import csv
import io

import pytest

from anagen.clinic.accounts.roles import Role
from anagen.clinic.common.csv_export import cell
from anagen.clinic.intake.services import inquiry_submit
from tests.clinic.factories import PatientFactory, SiteFactory, UserFactory

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
