"""The network-wide audit log: auditors only; every record's history at the auditor's sites, staff
and sites included; filters (who, what, when, patient), paging, CSV export; bounded queries."""

from __future__ import annotations

import csv
import io
import logging
import re

import pytest
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.audit.selectors import PAGE_SIZE, AuditFilter, network_audit_log
from tests.clinic.conftest import make_user
from tests.clinic.factories import PatientFactory, SiteFactory

pytestmark = pytest.mark.django_db

URL = reverse("audit:network")
SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def visible_text(html: str) -> str:
    text = re.sub(r"<[^>]+>", " ", html[html.index("<main") : html.index("</main>")])
    return re.sub(r"\S+@\S+", "<e-mail>", text)  # addresses are data, not field names


def csv_of(response) -> list[dict[str, str]]:
    return list(
        csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    )


@pytest.mark.parametrize("role", sorted(Role.values))
def test_only_auditors_open_the_network_log(client, staff, role):
    client.force_login(staff[role])
    expected = 200 if role == Role.AUDITOR else 403
    assert client.get(URL).status_code == expected
    assert client.get(URL, {"format": "csv"}).status_code == expected
    nav = client.get(reverse("account_login") if role == Role.REVIEWER else "/").content.decode()
    assert (URL in nav) == (role == Role.AUDITOR)


def test_staff_and_site_changes_in_clinic_words(client, staff, site, other_site):
    nurse = staff[Role.NURSE]
    nurse.role = Role.PHYSICIAN
    nurse.save()
    nurse.sites.add(other_site)
    nurse.is_active = False
    nurse.save()
    site.name = "London Bridge"
    site.save()
    auditor = make_user(Role.AUDITOR, site, email="network.auditor@example.test", all_sites=True)
    client.force_login(auditor)
    text = visible_text(client.get(URL, {"kind": "accounts.user"}).content.decode())
    assert "Role: Nurse → Physician" in text
    assert "Active: yes → no" in text
    assert f"Sites: {site.name} → " in text and other_site.name in text
    assert "password" not in text.lower()
    sites = visible_text(client.get(URL, {"kind": "accounts.site"}).content.decode())
    assert "Name: London → London Bridge" in sites
    assert not SNAKE_CASE.findall(text + sites)


def test_patient_filter_by_mrn_and_site_scope(client, staff, site):
    ours = PatientFactory(site=site, family_name="Rook")
    elsewhere = PatientFactory(site=SiteFactory(code="MAN", name="Manchester"), family_name="Finch")
    auditor = staff[Role.AUDITOR]  # works at ``site`` only
    everything = network_audit_log(user=auditor)[0:PAGE_SIZE]
    assert ours.mrn in {e.patient for e in everything}
    assert elsewhere.mrn not in {e.patient for e in everything}
    only = network_audit_log(user=auditor, wanted=AuditFilter(mrn=ours.mrn))[0:PAGE_SIZE]
    assert only and {e.patient for e in only} == {ours.mrn}
    assert not network_audit_log(user=auditor, wanted=AuditFilter(mrn=elsewhere.mrn)).count()
    network = make_user(Role.AUDITOR, site, email="network.auditor@example.test", all_sites=True)
    assert network_audit_log(user=network, wanted=AuditFilter(mrn=elsewhere.mrn)).count() == 1
    client.force_login(auditor)
    posted = client.post(URL, {"mrn": ours.mrn})
    assert posted.status_code == 302 and posted["Location"] == URL  # no MRN in the URL
    page = client.get(URL).content.decode()
    assert ours.mrn in page and "Family name: Rook" in page and elsewhere.mrn not in page
    assert client.get(URL, {"mrn": elsewhere.mrn}).context["form"]["mrn"].value() == ours.mrn
    # A bad filter is shown with its error; the filter in force stays in force.
    bad = client.post(URL, {"mrn": elsewhere.mrn, "since": "2026-02-31"})
    assert bad.status_code == 200 and bad.context["form"].errors
    assert {e.patient for e in bad.context["entries"]} == {ours.mrn}
    assert client.get(URL + "?mrn=" + elsewhere.mrn).context["query"] == ""  # links: page only
    client.post(URL, {"clear": "1"})
    assert client.get(URL).context["form"]["mrn"].value() in (None, "")
    # A saved filter that no longer applies (its staff member gone) is cleared, and said so.
    client.post(URL, {"who": auditor.pk, "mrn": ours.mrn})
    session = client.session
    session["audit_network_filter"]["who"] = "999999"
    session.save()
    stale = client.get(URL)
    assert "no longer applies" in stale.content.decode()
    assert "audit_network_filter" not in client.session


def test_who_filter_paging_and_csv_export(client, staff, site, caplog):
    coordinator = staff[Role.COORDINATOR]
    patient = PatientFactory(site=site)
    for i in range(PAGE_SIZE + 5):
        patient.phone = f"+44 7700 90{i:04d}"
        patient._history_user = coordinator
        patient.save()
    client.force_login(staff[Role.AUDITOR])
    client.post(URL, {"who": coordinator.pk})
    first = client.get(URL)
    assert first.context["page"].paginator.count == PAGE_SIZE + 5
    second = client.get(URL, {"page": 2})
    assert len(second.context["entries"]) == 5  # the pager keeps the filters
    client.post(URL, {"who": coordinator.pk, "mrn": patient.mrn})
    with caplog.at_level(logging.INFO, logger="anagen.audit"):
        response = client.get(URL, {"format": "csv"})
    rows = csv_of(response)
    assert len(rows) == PAGE_SIZE + 5 and rows[0]["from"] == "+44 20 7946 0000"
    assert {r["patient MRN"] for r in rows} == {patient.mrn}
    assert {r["field name"] for r in rows} == {"phone"}
    (event,) = [r for r in caplog.records if r.name == "anagen.audit"]
    assert event.scope == "network" and event.rows == PAGE_SIZE + 5
    assert event.filters == {"who": str(coordinator.pk), "mrn": "set"}
    assert patient.mrn not in repr(event.__dict__) and "7700" not in repr(event.__dict__)


def test_a_network_page_over_200_history_rows_takes_a_bounded_number_of_queries(
    client, staff, site, django_assert_max_num_queries
):
    users = [staff[role] for role in (Role.COORDINATOR, Role.PHYSICIAN, Role.NURSE)]
    patients = [PatientFactory(site=site, created_by=users[0]) for _ in range(4)]
    for i in range(200):
        patient = patients[i % 4]
        patient.phone = f"+44 7700 9{i:05d}"
        patient.created_by = users[i % 3]
        patient._history_user = users[(i + 1) % 3]
        patient.save()
    client.force_login(staff[Role.AUDITOR])
    with django_assert_max_num_queries(55):
        page = client.get(URL)
    assert page.status_code == 200 and len(page.context["entries"]) == PAGE_SIZE
    with django_assert_max_num_queries(55):
        last = client.get(URL, {"page": 5})
    assert last.status_code == 200
    with django_assert_max_num_queries(55):
        rows = csv_of(client.get(URL, {"format": "csv"}))
    assert len([r for r in rows if r["field name"] == "phone"]) == 204
