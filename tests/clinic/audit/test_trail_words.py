"""The patient's audit trail reads in the clinic's words: labels, names, yes/no, dates, summaries;
never a storage path, a token or a signature's HMAC. Filters, paging and the CSV export."""

from __future__ import annotations

import csv
import io
import logging
import re
from datetime import datetime, timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from anagen.clinic.accounts.roles import Role
from anagen.clinic.audit.models import Signature
from anagen.clinic.audit.selectors import (
    PAGE_SIZE,
    AuditFilter,
    patient_audit_trail,
)
from anagen.clinic.audit.words import json_words
from anagen.clinic.common import clock
from anagen.clinic.patients.services import patient_update
from tests.clinic.imaging_helpers import plain_png
from tests.clinic.treatment_helpers import administer, consented_plan, released_product

pytestmark = pytest.mark.django_db

SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def visible_text(html: str) -> str:
    """The page's main content as a reader sees it (no tags, attributes or scripts)."""
    text = re.sub(r"<[^>]+>", " ", html[html.index("<main") : html.index("</main>")])
    return re.sub(r"\S+@\S+", "<e-mail>", text)  # addresses are data, not field names


def trail_url(patient) -> str:
    return reverse("audit:patient", args=[patient.pk])


def csv_of(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_a_treated_patients_trail_reads_in_clinic_words(client, staff, patient):
    physician, nurse, lab = staff[Role.PHYSICIAN], staff[Role.NURSE], staff[Role.LAB_TECHNICIAN]
    patient.photo.save("face.png", ContentFile(plain_png()), save=True)
    patient_update(actor=staff[Role.COORDINATOR], patient=patient, phone="+44 7700 900999")
    plan = consented_plan(physician, nurse, patient)
    product = released_product(physician, lab, plan)
    session = administer(physician, nurse, plan, product)
    client.force_login(staff[Role.AUDITOR])
    html = client.get(trail_url(patient)).content.decode()
    text = visible_text(html)

    # Choice labels, not codes; linked records by name, not ids.
    assert "Status: Quarantine → Released" in text and "queued" not in text
    assert f"Patient: {patient.full_name} ({patient.mrn})" in text
    assert f"Product: Cell product {product.product_code}" in text
    assert f"Performed by: {physician.display_name}" in text
    assert "Sex: Female" in text
    # A created record lists the values it was created with, in the site's date format.
    assert "Given name: Ada" in text and "Date of birth: 2 Apr 1988" in text
    # JSON lists summarised by label.
    assert "Target zones: Frontal, Mid-scalp, Vertex" in text
    # Files: a fact, never a storage path.
    assert "Photo: document stored" in text or "Photo: file replaced" in text
    assert patient.photo.name not in html and "face" not in text
    consent = plan.consents.get()
    assert "Snapshot pdf: document stored" in text and consent.snapshot_pdf.name not in html
    # Tokens, digests and signature HMACs are never shown.
    assert session.submission_token not in html and consent.snapshot_sha256 not in html
    for signature in Signature.objects.all():
        assert signature.record_digest not in html and signature.record_digest[:12] not in html
    assert "Submission token: recorded" in text
    # No raw field name anywhere on the page.
    assert not SNAKE_CASE.findall(text), SNAKE_CASE.findall(text)
    assert "→ 1" not in text  # an FK id as a value (the old "overridden_by: — → 1")


def test_json_summaries():
    assert json_words("removed_hair_ids", [4, 9, 17]) == "3 hairs removed"
    assert json_words("removed_hair_ids", [4]) == "1 hair removed"
    assert json_words("target_zones", ["vertex", "temporal_left"]) == "Vertex, Temporal left"
    assert json_words("triggers", ["crash_diet"]) == "Crash diet or rapid weight loss"
    assert json_words("result", {"hairs": [{"x": 1}] * 50}) == "analysis result recorded"
    assert json_words("sterile_checklist", {"skin_prep": True, "sterile_drapes": False}) == (
        "Skin prepared with antiseptic"
    )


def _changes_by(patient, user, phones):
    """Changes of ``patient`` attributed to ``user`` (as the request middleware would)."""
    for phone in phones:
        patient.phone = phone
        patient._history_user = user
        patient.save()


def test_filters_by_who_what_and_when(client, staff, patient):
    coordinator, physician = staff[Role.COORDINATOR], staff[Role.PHYSICIAN]
    earlier = timezone.make_aware(datetime(2026, 3, 2, 10, 0))
    with clock.frozen(earlier):
        _changes_by(patient, coordinator, ["+44 7700 900001"])
    with clock.frozen(earlier + timedelta(days=30)):
        _changes_by(patient, physician, ["+44 7700 900002"])
    plan = consented_plan(physician, staff[Role.NURSE], patient)

    by_coordinator = patient_audit_trail(patient=patient, wanted=AuditFilter(who=coordinator.pk))
    assert [e.who for e in by_coordinator] == [coordinator.display_name]
    assert by_coordinator[0].changes[0].new == "+44 7700 900001"

    plans = patient_audit_trail(patient=patient, wanted=AuditFilter(kind="treatment.treatmentplan"))
    assert plans and {e.record for e in plans} == {f"Treatment plan #{plan.pk}"}

    march = AuditFilter(since=earlier.date(), until=earlier.date())
    assert [e.changes[0].new for e in patient_audit_trail(patient=patient, wanted=march)] == [
        "+44 7700 900001"
    ]

    client.force_login(staff[Role.AUDITOR])
    page = client.get(trail_url(patient), {"who": physician.pk, "kind": "patients.patient"})
    text = visible_text(page.content.decode())
    assert "Phone: +44 7700 900001 → +44 7700 900002" in text
    assert "+44 20 7946 0000 → +44 7700 900001" not in text  # the coordinator's change
    refused = client.get(trail_url(patient), {"since": "2026-04-01", "until": "2026-03-01"})
    assert "The end date is before the start date." in refused.content.decode()


def test_the_trail_is_paged(client, staff, patient):
    _changes_by(patient, staff[Role.COORDINATOR], [f"+44 7700 90{i:04d}" for i in range(60)])
    client.force_login(staff[Role.AUDITOR])
    first = client.get(trail_url(patient))
    assert first.context["page"].paginator.count == 61  # created + 60 changes
    assert len(first.context["entries"]) == PAGE_SIZE
    assert "+44 7700 900059" in first.content.decode()  # newest first
    second = client.get(trail_url(patient), {"page": 2})
    entries = second.context["entries"]
    assert len(entries) == 61 - PAGE_SIZE and entries[-1].action == "created"


def test_csv_export_in_time_order_with_raw_field_names_and_a_logged_event(
    client, staff, patient, caplog
):
    coordinator = staff[Role.COORDINATOR]
    _changes_by(patient, coordinator, ["+44 7700 900001", "+44 7700 900002"])
    client.force_login(staff[Role.AUDITOR])
    with caplog.at_level(logging.INFO, logger="anagen.audit"):
        response = client.get(trail_url(patient), {"format": "csv", "who": coordinator.pk})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_of(response)
    assert [(r["field"], r["field name"], r["from"], r["to"]) for r in rows] == [
        ("Phone", "phone", "+44 20 7946 0000", "+44 7700 900001"),
        ("Phone", "phone", "+44 7700 900001", "+44 7700 900002"),
    ]
    assert {r["who"] for r in rows} == {coordinator.display_name}
    assert [r["when"] for r in rows] == sorted(r["when"] for r in rows)
    (event,) = [r for r in caplog.records if r.name == "anagen.audit"]
    assert event.user_id == staff[Role.AUDITOR].pk and event.scope == "patient"
    assert event.rows == 2 and event.filters == {"who": str(coordinator.pk)}
    assert "7700" not in event.getMessage() + repr(event.__dict__)


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(client, staff, patient):
    _changes_by(patient, staff[Role.COORDINATOR], ["+44 7700 900001"])
    patient.address = '=HYPERLINK("http://evil.example","x")'
    patient.save()
    client.force_login(staff[Role.AUDITOR])
    rows = {r["field name"]: r for r in csv_of(client.get(trail_url(patient), {"format": "csv"}))}
    assert rows["address"]["to"].startswith("'=HYPERLINK")
    assert rows["phone"]["to"] == "+44 7700 900001"  # a phone number is left as it is


def test_a_page_of_200_history_rows_takes_a_bounded_number_of_queries(
    client, staff, patient, django_assert_max_num_queries
):
    users = [staff[role] for role in (Role.COORDINATOR, Role.PHYSICIAN, Role.NURSE)]
    for i in range(200):
        patient.phone = f"+44 7700 9{i:05d}"
        patient.created_by = users[i % 3]
        patient._history_user = users[(i + 1) % 3]
        patient.save()
    client.force_login(staff[Role.AUDITOR])
    with django_assert_max_num_queries(45):
        page = client.get(trail_url(patient))
    assert page.status_code == 200 and len(page.context["entries"]) == PAGE_SIZE
    assert f"Created by: {users[0].display_name} → {users[1].display_name}" in page.content.decode()
    with django_assert_max_num_queries(45):
        rows = csv_of(client.get(trail_url(patient), {"format": "csv"}))
    assert len([r for r in rows if r["field name"] == "phone"]) == 201  # created + 200 changes
