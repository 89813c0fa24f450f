"""The treatment pages: each renders for its roles, key POSTs go through the services, and
refusals (no consent, identity mismatch, double submit, wrong password) show and change nothing.

The rules themselves are tested in ``test_services_*.py``; these tests are about the pages.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from anagen.clinic.accounts.roles import Role
from anagen.clinic.patients.services import patient_create
from anagen.clinic.treatment import services
from anagen.clinic.treatment.defaults import ensure_defaults
from anagen.clinic.treatment.models import (
    AdverseEvent,
    CellProduct,
    Consent,
    CustodyEvent,
    Harvest,
    ScheduledVisit,
    TreatmentPlan,
    TreatmentSession,
)
from anagen.identity import parse_product_id
from tests.clinic.conftest import PASSWORD, make_user
from tests.clinic.treatment_helpers import (
    CHECKLIST,
    administer,
    consented_plan,
    harvest,
    make_candidate,
    released_product,
    second_lab_technician,
)

pytestmark = pytest.mark.django_db


def local(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def team(staff):
    return staff[Role.PHYSICIAN], staff[Role.NURSE], staff[Role.LAB_TECHNICIAN]


@pytest.fixture
def patient(patient, staff):
    """The shared patient, assessed as a candidate (treatment needs it)."""
    make_candidate(staff[Role.PHYSICIAN], patient)
    return patient


@pytest.fixture
def plan(team, patient):
    physician, nurse, _ = team
    return consented_plan(physician, nurse, patient)


@pytest.fixture
def product(team, plan):
    physician, _, lab = team
    return released_product(physician, lab, plan)


def as_(client, user):
    client.force_login(user)
    return client


def session_post(plan, product, nurse, **overrides):
    data = {
        "submission_token": uuid.uuid4().hex,
        "scanned_product_code": product.product_code,
        "scanned_mrn": plan.patient.mrn,
        "verifier": nurse.pk,
        "verifier_password": PASSWORD,
        "started_at": local(timezone.now() - timedelta(minutes=2)),
        "ended_at": local(timezone.now() + timedelta(minutes=2)),
        "adjuncts": ["prp"],
        "vertex_points": "40",
        "vertex_volume": "0.05",
        "vertex_cells": "100000",
        "frontal_points": "20",
        "frontal_volume": "0.05",
        "frontal_cells": "50000",
    }
    data.update(overrides)
    return data


# --- plan and consent ---------------------------------------------------------------------


def test_physician_creates_a_plan_from_the_protocol(client, team, patient):
    physician, _, _ = team
    protocol, _ = ensure_defaults()
    as_(client, physician)
    page = client.get(reverse("treatment:plan_new", args=[patient.pk]))
    assert page.status_code == 200
    assert protocol.name in page.content.decode()
    assert page.context["form"].initial["planned_sessions"] == protocol.planned_sessions

    response = client.post(
        reverse("treatment:plan_new", args=[patient.pk]),
        {
            "protocol": protocol.pk,
            "method": "svf_mechanical",
            "target_zones": ["vertex", "mid_scalp"],
            "adjuncts": [],
            "planned_sessions": "2",
            "interval_weeks": "10",
            "planned_dose_cells": "4000000",
            "price_min": "1800",
            "price_max": "2200",
        },
    )
    plan = TreatmentPlan.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "treatment:plan", args=[plan.pk]
    )
    assert plan.target_zones == ["vertex", "mid_scalp"] and plan.adjuncts == []
    assert (plan.planned_sessions, plan.interval_weeks) == (2, 10)
    detail = client.get(response["Location"]).content.decode()
    assert "Mid-scalp, Vertex" in detail or "Vertex, Mid-scalp" in detail
    assert "1800.00–2200.00 EUR" in detail
    assert "No valid consent" in detail


def test_plan_form_shows_service_errors(client, team, patient):
    physician, _, _ = team
    protocol, _ = ensure_defaults()
    response = as_(client, physician).post(
        reverse("treatment:plan_new", args=[patient.pk]),
        {
            "protocol": protocol.pk,
            "method": "svf_mechanical",
            "planned_sessions": "3",
            "interval_weeks": "8",
            "planned_dose_cells": "5000000",
            "price_min": "3000",
            "price_max": "2000",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Choose one or more scalp zones" in body or "upper price" in body
    assert not TreatmentPlan.objects.exists()


def test_consent_page_signs_and_the_pdf_is_served_only_to_allowed_roles(
    client, staff, team, patient, other_site
):
    physician, nurse, _ = team
    protocol, text = ensure_defaults()
    plan = services.plan_create(actor=physician, patient=patient, protocol=protocol)
    as_(client, nurse)
    page = client.get(reverse("treatment:consent_sign", args=[plan.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and "INVESTIGATIONAL" in body and "2050.00–2450.00" in body

    wrong = client.post(
        reverse("treatment:consent_sign", args=[plan.pk]),
        {"consent_text": text.pk, "signer_name": "Somebody Else", "agrees": "on"},
    )
    assert wrong.status_code == 200 and 'role="alert"' in wrong.content.decode()
    assert "full name" in wrong.content.decode()
    assert not Consent.objects.exists()

    signed = client.post(
        reverse("treatment:consent_sign", args=[plan.pk]),
        {"consent_text": text.pk, "signer_name": patient.full_name, "agrees": "on"},
    )
    assert signed.status_code == 302
    consent = Consent.objects.get()
    plan.refresh_from_db()
    assert plan.status == "consented" and consent.witnessed_by == nurse

    url = reverse("treatment:consent_pdf", args=[consent.pk])
    for role in Role.values:
        client.force_login(staff[role])
        response = client.get(url)
        if role in (Role.PHYSICIAN, Role.NURSE, Role.AUDITOR):
            assert response.status_code == 200, role
            assert b"".join(response.streaming_content).startswith(b"%PDF")
            assert "attachment" in response["Content-Disposition"]
        else:
            assert response.status_code == 403, role
    client.force_login(make_user(Role.PHYSICIAN, other_site))
    assert client.get(url).status_code == 404
    assert (
        "/media/"
        not in as_(client, nurse).get(reverse("treatment:plan", args=[plan.pk])).content.decode()
    )


def test_consent_withdrawal_needs_a_reason(client, team, plan):
    _, nurse, _ = team
    consent = plan.consents.get()
    url = reverse("treatment:consent_withdraw", args=[consent.pk])
    as_(client, nurse)
    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": ""}).status_code == 200
    consent.refresh_from_db()
    assert consent.withdrawn_at is None
    assert client.post(url, {"reason": "Changed her mind"}).status_code == 302
    consent.refresh_from_db()
    assert consent.withdrawal_reason == "Changed her mind" and consent.withdrawn_at


# --- harvest -------------------------------------------------------------------------------


def harvest_post(**overrides):
    data = {
        "performed_at": local(timezone.now() - timedelta(minutes=30)),
        "site": "periumbilical",
        "anaesthesia": "Local, tumescent lidocaine",
        "cannula_or_punch_mm": "2.0",
        "volume_ml": "20",
        "sterile_checklist": list(CHECKLIST),
        "notes": "",
    }
    data.update(overrides)
    return data


def test_harvest_is_refused_without_consent(client, team, patient):
    physician, _, _ = team
    protocol, _ = ensure_defaults()
    plan = services.plan_create(actor=physician, patient=patient, protocol=protocol)
    as_(client, physician)
    page = client.get(reverse("treatment:harvest_new", args=[plan.pk]))
    assert page.status_code == 200
    assert "No valid consent for this plan" in page.content.decode()
    response = client.post(reverse("treatment:harvest_new", args=[plan.pk]), harvest_post())
    assert response.status_code == 200
    body = response.content.decode()
    assert 'role="alert"' in body and "No valid consent" in body
    assert not Harvest.objects.exists() and not CellProduct.objects.exists()


def test_harvest_records_the_specimen_and_hints_at_unusual_volume(client, team, plan):
    physician, _, _ = team
    as_(client, physician)
    incomplete = client.post(
        reverse("treatment:harvest_new", args=[plan.pk]),
        harvest_post(sterile_checklist=["skin_prep"]),
    )
    assert incomplete.status_code == 200 and "Not confirmed" in incomplete.content.decode()
    assert not Harvest.objects.exists()

    response = client.post(
        reverse("treatment:harvest_new", args=[plan.pk]), harvest_post(volume_ml="45"), follow=True
    )
    harvest = Harvest.objects.get()
    body = response.content.decode()
    assert harvest.volume_ml == 45 and harvest.products.count() == 1
    assert harvest.donation_code in body
    assert "outside the typical 10–30 mL" in body


# --- laboratory ----------------------------------------------------------------------------


def test_lab_records_results_and_releases_with_password(client, team, plan):
    physician, _, lab = team
    product = harvest(physician, plan).products.get()
    as_(client, lab)
    bench = client.get(reverse("treatment:lab_bench")).content.decode()
    assert parse_product_id(product.product_code).display in bench and "In processing" in bench

    page = client.get(reverse("treatment:product", args=[product.pk])).content.decode()
    assert "Record results" in page and "Custody log" in page

    results = client.post(
        reverse("treatment:product_results", args=[product.pk]),
        {
            "processing_ended_at": local(timezone.now() - timedelta(minutes=10)),
            "total_nucleated_cells": "10000000",
            "viability_percent": "85",
            "viable_cells": "",
            "volume_ml": "4",
            "qc_sterility": "pending",
            "qc_endotoxin": "pass",
            "qc_mycoplasma": "not_required",
        },
    )
    assert results.status_code == 302
    product.refresh_from_db()
    assert product.status == "quarantine" and product.viable_cells == 8_500_000
    assert str(product.viable_fraction) == "0.850"

    page = client.get(reverse("treatment:product", args=[product.pk])).content.decode()
    assert "A second lab technician must release" in page  # four-eyes: not the recorder
    as_(client, second_lab_technician(lab))
    page = client.get(reverse("treatment:product", args=[product.pk])).content.decode()
    assert page.count("badge pass") >= 6 and "Release and sign" in page

    wrong = client.post(
        reverse("treatment:product_release", args=[product.pk]), {"password": "nope"}
    )
    assert wrong.status_code == 200 and "password does not match" in wrong.content.decode()
    product.refresh_from_db()
    assert product.status == "quarantine"

    right = client.post(
        reverse("treatment:product_release", args=[product.pk]), {"password": PASSWORD}
    )
    assert right.status_code == 302
    product.refresh_from_db()
    assert product.status == "released"
    page = client.get(reverse("treatment:product", args=[product.pk])).content.decode()
    assert "Released by" in page


def test_release_panel_shows_failed_gates_and_refuses(client, team, plan):
    physician, _, lab = team
    product = harvest(physician, plan).products.get()
    services.product_record_results(
        actor=lab,
        product=product,
        processing_ended_at=timezone.now(),
        total_nucleated_cells=2_000_000,
        viable_fraction=Decimal("0.5"),
    )
    as_(client, second_lab_technician(lab))
    page = client.get(reverse("treatment:product", args=[product.pk])).content.decode()
    assert "badge fail" in page
    refused = client.post(
        reverse("treatment:product_release", args=[product.pk]), {"password": PASSWORD}
    )
    assert refused.status_code == 200 and "Release refused" in refused.content.decode()
    product.refresh_from_db()
    assert product.status == "quarantine"


def test_store_thaw_discard_and_expiry_sweep(client, team, plan, product):
    physician, _, lab = team
    as_(client, lab)
    stored = client.post(
        reverse("treatment:product_store", args=[product.pk]),
        {
            "freezer": "LN2-1",
            "rack": "A",
            "box": "3",
            "position": "12",
            "expires_at": local(timezone.now() + timedelta(days=365)),
        },
    )
    assert stored.status_code == 302
    product.refresh_from_db()
    assert product.status == "stored" and "LN2-1" in product.location
    assert (
        client.post(
            reverse("treatment:product_thaw", args=[product.pk]), {"use_within_hours": "4"}
        ).status_code
        == 302
    )
    product.refresh_from_db()
    assert product.status == "thawed"

    as_(client, physician)
    assert (
        client.post(reverse("treatment:product_discard", args=[product.pk]), {}).status_code == 200
    )
    assert (
        client.post(
            reverse("treatment:product_discard", args=[product.pk]), {"reason": "Dropped"}
        ).status_code
        == 302
    )
    product.refresh_from_db()
    assert product.status == "discarded"

    other = harvest(physician, plan).products.order_by("-pk").first()
    CellProduct.objects.filter(pk=other.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    response = as_(client, lab).post(reverse("treatment:expire_sweep"), follow=True)
    assert "1 product marked expired" in response.content.decode()
    other.refresh_from_db()
    assert other.status == "expired"


def test_label_pdf_is_logged_and_svg_carries_the_identifier(client, team, product):
    _, _, lab = team
    as_(client, lab)
    pdf = client.get(reverse("treatment:label_pdf", args=[product.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert CustodyEvent.objects.filter(product=product, kind="label").count() == 1
    svg = client.get(reverse("treatment:label_svg", args=[product.pk]))
    text = svg.content.decode()
    assert svg["Content-Type"] == "image/svg+xml"
    assert product.product_code in text and "AUTOLOGOUS USE ONLY" in text
    assert product.patient.mrn in text


# --- session -------------------------------------------------------------------------------


def test_session_page_offers_a_fresh_token_and_other_verifiers(client, team, plan):
    physician, nurse, _ = team
    as_(client, physician)
    first = client.get(reverse("treatment:session_new", args=[plan.pk]))
    second = client.get(reverse("treatment:session_new", args=[plan.pk]))
    token = first.context["form"].initial["submission_token"]
    assert token and token != second.context["form"].initial["submission_token"]
    verifiers = list(first.context["form"].fields["verifier"].queryset)
    assert nurse in verifiers and physician not in verifiers
    assert 'name="submission_token"' in first.content.decode()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"scanned_mrn": "WRONG-MRN"}, "MRN does not match"),
        ({"scanned_product_code": "A9999260000010-01"}, "product"),
        ({"verifier_password": "not-the-password"}, "password does not match"),
    ],
)
def test_identity_failure_is_shown_and_changes_nothing(
    client, team, plan, product, override, message
):
    physician, nurse, _ = team
    as_(client, physician)
    response = client.post(
        reverse("treatment:session_new", args=[plan.pk]),
        session_post(plan, product, nurse, **override),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="errors alert-stop" role="alert"' in body
    assert "Identity check failed" in body and message in body
    assert not TreatmentSession.objects.exists()
    product.refresh_from_db()
    assert product.status == "released"
    assert not ScheduledVisit.objects.exists()


def test_product_of_another_patient_is_stopped(client, team, plan, site, coordinator):
    physician, nurse, lab = team
    from datetime import date

    other = patient_create(
        actor=coordinator,
        site=site,
        given_name="Bram",
        family_name="Okafor",
        date_of_birth=date(1979, 5, 6),
        sex="male",
        phone="+44 20 7946 0001",
    )
    other_product = released_product(physician, lab, consented_plan(physician, nurse, other))
    response = as_(client, physician).post(
        reverse("treatment:session_new", args=[plan.pk]),
        session_post(plan, other_product, nurse),
    )
    body = response.content.decode()
    assert "STOP: this product belongs to another patient" in body and 'role="alert"' in body
    assert not TreatmentSession.objects.exists()
    other_product.refresh_from_db()
    assert other_product.status == "released"


def test_session_records_the_map_and_shows_the_schedule_and_refuses_a_double_submit(
    client, team, plan, product
):
    physician, nurse, _ = team
    as_(client, physician)
    data = session_post(plan, product, nurse)
    response = client.post(reverse("treatment:session_new", args=[plan.pk]), data)
    session = TreatmentSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("treatment:session", args=[session.pk])
    assert session.total_cells == 40 * 100_000 + 20 * 50_000
    assert session.zones.count() == 2 and session.verified_by == nurse
    product.refresh_from_db()
    assert product.status == "administered"

    page = client.get(response["Location"]).content.decode()
    assert "Follow-up schedule" in page and "Day 14" in page and "Session 2" in page
    assert "5,000,000" in page

    again = client.post(reverse("treatment:session_new", args=[plan.pk]), data)
    assert again.status_code == 200
    assert "double submission" in again.content.decode()
    assert TreatmentSession.objects.count() == 1


def test_cells_per_point_warning_is_shown_next_to_the_zone(client, team, plan, product):
    physician, nurse, _ = team
    response = as_(client, physician).post(
        reverse("treatment:session_new", args=[plan.pk]),
        session_post(
            plan,
            product,
            nurse,
            vertex_cells="200000",
            frontal_points="",
            frontal_volume="",
            frontal_cells="",
            verifier_password="wrong",
        ),
    )
    body = response.content.decode()
    assert "200,000 cells per point is above the usual 150,000" in body
    assert not TreatmentSession.objects.exists()


def test_incomplete_zone_row_is_a_form_error(client, team, plan, product):
    physician, nurse, _ = team
    response = as_(client, physician).post(
        reverse("treatment:session_new", args=[plan.pk]),
        session_post(plan, product, nurse, frontal_cells=""),
    )
    assert "give points, mL per point and cells per point" in response.content.decode()
    assert not TreatmentSession.objects.exists()


def test_session_and_aftercare_pages(client, staff, team, plan, product):
    physician, nurse, _ = team
    session = administer(physician, nurse, plan, product)
    for role in (Role.PHYSICIAN, Role.NURSE, Role.AUDITOR):
        client.force_login(staff[role])
        assert client.get(reverse("treatment:session", args=[session.pk])).status_code == 200
    client.force_login(nurse)
    pdf = client.get(reverse("treatment:aftercare_pdf", args=[session.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    from django.template.loader import render_to_string

    html = render_to_string(
        "treatment/aftercare.html",
        {
            "session": session,
            "patient": session.patient,
            "plan": plan,
            "harvests": plan.harvests.all(),
            "visits": plan.scheduled_visits.all(),
            "site": session.patient.site,
        },
    )
    assert "1 to 2 weeks" in html and "fever" in html and "pus" in html
    assert "not guaranteed" in html and "Day 14" in html
    for claim in ("permanent", "completely safe", "guaranteed results"):
        assert claim not in html.lower()


# --- adverse events, follow-ups, chart ----------------------------------------------------


def test_adverse_event_is_reported_and_listed(client, team, plan, product):
    physician, nurse, _ = team
    session = administer(physician, nurse, plan, product)
    as_(client, nurse)
    url = reverse("treatment:adverse_event_new", args=[plan.patient.pk]) + f"?plan={plan.pk}"
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(
        url,
        {
            "plan": plan.pk,
            "type": "bruising",
            "description": "Bruise at the umbilicus",
            "site": "harvest",
            "grade": "1",
            "onset_on": timezone.localdate().isoformat(),
            "relatedness": "definite",
            "action_taken": "Reassured",
            "session": session.pk,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("treatment:plan", args=[plan.pk])
    event = AdverseEvent.objects.get()
    assert event.session == session and event.reported_by == nurse
    chart = client.get(reverse("patients:chart", args=[plan.patient.pk])).content.decode()
    assert "Bruise at the umbilicus" in chart and f"Plan #{plan.pk}" in chart


def test_follow_up_page_lists_overdue_due_and_upcoming_with_book_links(client, staff, team, plan):
    services.visits_schedule(plan=plan, first_session_on=timezone.localdate() - timedelta(days=30))
    client.force_login(staff[Role.COORDINATOR])
    response = client.get(reverse("treatment:follow_ups"))
    assert response.status_code == 200
    state = {v.label: v.state for v in response.context["page"]}
    assert state["Day 14"] == "overdue" and state["Day 30"] == "due"
    assert state["Day 60"] == "upcoming"
    body = response.content.decode()
    for visit in plan.scheduled_visits.all():
        assert reverse("treatment:follow_up_book", args=[visit.pk]) in body


def test_plan_page_for_readers(client, staff, plan, product):
    for role in (Role.PHYSICIAN, Role.NURSE, Role.LAB_TECHNICIAN, Role.AUDITOR, Role.COORDINATOR):
        client.force_login(staff[role])
        response = client.get(reverse("treatment:plan", args=[plan.pk]))
        assert response.status_code == 200, role
        assert product.product_code in response.content.decode()
    client.force_login(staff[Role.AUDITOR])
    body = client.get(reverse("treatment:product", args=[product.pk])).content.decode()
    assert "Release and sign" not in body and "Discard product" not in body
