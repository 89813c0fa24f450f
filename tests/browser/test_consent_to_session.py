"""A patient's walk through treatment: plan and consent → harvest → lab results and release →
session with the two-person identity check → the follow-up schedule.

Runs in Debian's chromium through Playwright and saves screenshots var/screenshots/1x-*.png.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from anagen.clinic.accounts.models import Site
from anagen.clinic.accounts.roles import Role
from anagen.clinic.patients.services import patient_create
from anagen.clinic.treatment.defaults import ensure_defaults
from anagen.clinic.treatment.models import (
    CellProduct,
    Consent,
    Harvest,
    ScheduledVisit,
    TreatmentSession,
)
from tests.browser.conftest import shot
from tests.browser.test_inquiry_to_eligibility import sign_in, sign_out
from tests.clinic.conftest import PASSWORD, make_user
from tests.clinic.treatment_helpers import make_candidate, second_lab_technician

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def local(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def test_plan_consent_harvest_release_session(live_server, browser_page):
    page, base = browser_page, live_server.url
    site = Site.objects.create(code="LDN", name="Riverside Clinic, London")
    physician = make_user(Role.PHYSICIAN, site)
    nurse = make_user(Role.NURSE, site)
    lab = make_user(Role.LAB_TECHNICIAN, site)
    coordinator = make_user(Role.COORDINATOR, site)
    patient = patient_create(
        actor=coordinator,
        site=site,
        given_name="Jasper",
        family_name="Thistlewood",
        date_of_birth=date(1986, 3, 14),
        sex="male",
        phone="+44 7700 900555",
    )
    ensure_defaults()
    # Assessed as a candidate (the assessment pages have their own walk).
    make_candidate(physician, patient)
    releaser = second_lab_technician(lab)

    # 1. The physician writes the plan from the protocol and the patient signs the consent.
    sign_in(page, base, physician.email)
    page.goto(f"{base}/patients/{patient.pk}/")
    page.get_by_role("link", name="New treatment plan").click()
    page.get_by_label("Occipital").check()
    page.get_by_label("Planned sessions").fill("2")
    shot(page, "1x-01-plan-form")
    page.get_by_role("button", name="Create plan").click()
    page.get_by_text("Treatment plan created").wait_for()
    shot(page, "1x-02-plan-awaiting-consent")

    page.get_by_role("link", name="Sign consent with the patient").click()
    page.get_by_label("Patient's full name").fill("Jasper Thistlewood")
    page.get_by_label("I have read this consent").check()
    shot(page, "1x-03-consent")
    page.get_by_role("button", name="Sign consent").click()
    page.get_by_text("Consent signed and witnessed").wait_for()
    consent = Consent.objects.get()
    assert consent.plan.status == "consented" and consent.witnessed_by == physician

    # 2. Harvest with the sterile checklist; an unusual volume is flagged, not refused.
    page.get_by_role("link", name="Record harvest").click()
    page.get_by_label("Harvest site").select_option("periumbilical")
    page.get_by_label("Cannula or punch size (mm)").fill("2.5")
    page.get_by_label("Volume (mL)").fill("35")
    expect(page.locator("#volume-hint")).to_be_visible()
    page.get_by_label("Volume (mL)").fill("22")
    expect(page.locator("#volume-hint")).to_be_hidden()
    for _, label in Harvest.STERILE_CHECKLIST:
        page.get_by_label(label).check()
    shot(page, "1x-04-harvest")
    page.get_by_role("button", name="Record harvest").click()
    page.get_by_text("Harvest recorded").wait_for()
    product = CellProduct.objects.get()
    assert product.status == "in_processing"
    sign_out(page)

    # 3. The lab records results; a second technician sees every gate pass and releases.
    sign_in(page, base, lab.email)
    page.get_by_role("link", name="Lab", exact=True).click()
    shot(page, "1x-05-lab-bench")
    page.locator(f"a[href='/treatment/products/{product.pk}/']").first.click()
    page.get_by_label("Processing ended").fill(local(timezone.now()))
    page.get_by_label("Total nucleated cells").fill("10000000")
    page.get_by_label("Viability (%)").fill("86")
    page.get_by_label("Final volume (mL)").fill("4")
    page.get_by_label("QC: endotoxin").select_option("pass")
    page.get_by_role("button", name="Save results").click()
    page.locator(".msg.success", has_text="Processing results recorded").wait_for()
    expect(page.get_by_text("A second lab technician must release")).to_be_visible()
    sign_out(page)
    sign_in(page, base, releaser.email)
    page.goto(f"{base}/treatment/products/{product.pk}/")
    page.get_by_label("Your password").fill(PASSWORD)
    shot(page, "1x-06-release-gates")
    page.get_by_role("button", name="Release and sign").click()
    page.locator(".msg.success", has_text="Product released and signed").wait_for()
    shot(page, "1x-07-product-released")
    product.refresh_from_db()
    assert product.status == "released"
    sign_out(page)

    # 4. The session: a wrong MRN stops everything; the right one with the nurse's check passes.
    sign_in(page, base, physician.email)
    page.goto(f"{base}/treatment/plans/{product.harvest.plan_id}/")
    page.get_by_role("link", name="Start session").click()
    page.get_by_label("Product identifier").fill(product.product_code)
    page.get_by_label("Patient MRN").fill("WRONG-0001")
    page.get_by_label("Verified by").select_option(label=nurse.display_name)
    page.get_by_label("Verifier's password").fill(PASSWORD)
    page.get_by_label("Vertex: points").fill("40")
    page.get_by_label("Vertex: mL per point").fill("0.05")
    page.get_by_label("Vertex: cells per point").fill("160000")
    expect(page.get_by_text("cells per point is above the usual")).to_be_visible()
    page.get_by_label("Vertex: cells per point").fill("100000")
    page.get_by_label("Frontal: points").fill("30")
    page.get_by_label("Frontal: mL per point").fill("0.05")
    page.get_by_label("Frontal: cells per point").fill("100000")
    page.get_by_label("Started").fill(local(timezone.now()))
    page.get_by_label("Ended").fill(local(timezone.now() + timedelta(minutes=3)))
    expect(page.locator("#total-cells")).to_have_text("7,000,000 cells")
    page.get_by_role("button", name="Record session").click()
    alert = page.locator(".alert-stop[role=alert]")
    alert.wait_for()
    assert "MRN does not match" in alert.inner_text()
    shot(page, "1x-08-identity-refused")
    assert not TreatmentSession.objects.exists()

    page.get_by_label("Patient MRN").fill(patient.mrn)
    page.get_by_label("Verifier's password").fill(PASSWORD)
    shot(page, "1x-09-session-form")
    page.get_by_role("button", name="Record session").click()
    page.get_by_text("Follow-up schedule").wait_for()
    shot(page, "1x-10-session-summary")
    session = TreatmentSession.objects.get()
    assert session.verified_by == nurse and session.total_cells == 7_000_000
    assert page.get_by_role("cell", name="Day 14", exact=True).is_visible()
    assert page.get_by_role("cell", name="Session 2", exact=True).is_visible()
    assert ScheduledVisit.objects.filter(plan=session.plan).count() == 1 + 6
    product.refresh_from_db()
    assert product.status == "administered"
