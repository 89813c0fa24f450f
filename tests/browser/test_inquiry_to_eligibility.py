"""A newcomer's walk: public request → coordinator call-back and booking → physician assessment.

Runs in Debian's chromium through Playwright and saves screenshots under var/screenshots/.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from anagen.clinic.accounts.models import Site
from anagen.clinic.accounts.roles import Role
from anagen.clinic.assessment.models import EligibilityDecision
from anagen.clinic.intake.models import Appointment, Inquiry
from tests.browser.conftest import shot
from tests.clinic.conftest import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base, email):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    # Each role starts at its own work (the lab technician at the lab's home, ...).
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()


def test_inquiry_to_assessment_with_eligibility(live_server, browser_page):
    page, base = browser_page, live_server.url
    site = Site.objects.create(code="LDN", name="Riverside Clinic, London")
    coordinator = make_user(Role.COORDINATOR, site)
    physician = make_user(Role.PHYSICIAN, site)

    # 1. The public asks for a call back.
    page.goto(f"{base}/request/")
    page.get_by_label("Your name").fill("Jasper Thistlewood")
    page.get_by_label("Phone").fill("+44 7700 900555")
    page.get_by_role("combobox", name="Clinic").select_option(label=site.name)
    page.get_by_label("I agree to be contacted").check()
    shot(page, "01-public-request")
    page.get_by_role("button", name="Request a call back").click()
    page.get_by_text("We have your request").wait_for()
    assert Inquiry.objects.get().status == "new"

    # 2. The coordinator calls back, converts and books the consultation.
    sign_in(page, base, coordinator.email)
    page.get_by_role("link", name="Inquiries").click()
    shot(page, "02-call-back-queue")
    page.get_by_role("link", name="Jasper Thistlewood").click()
    page.get_by_role("textbox", name="Call-back note").fill(
        "Called back; wants a consultation next week."
    )
    page.get_by_role("button", name="Save note").click()
    page.get_by_text("Note saved").wait_for()
    page.get_by_role("link", name="Convert to patient").click()
    page.get_by_label("Date of birth").fill("1986-03-14")
    page.get_by_label("Sex").select_option("male")
    when = timezone.localtime() + timedelta(days=2)
    page.get_by_label("Consultation starts").fill(when.strftime("%Y-%m-%dT10:00"))
    page.get_by_label("Clinician").select_option(label=physician.display_name)
    shot(page, "03-convert-inquiry")
    page.get_by_role("button", name="Register and book").click()
    page.get_by_text("consultation booked").wait_for()
    shot(page, "04-patient-chart")
    appointment = Appointment.objects.get()
    assert appointment.kind == "consult" and appointment.clinician == physician
    sign_out(page)

    # 3. The physician assesses the patient and gets an explained decision.
    sign_in(page, base, physician.email)
    page.get_by_role("link", name="Patients").click()
    page.get_by_role("link", name="Thistlewood, Jasper").click()
    page.get_by_role("link", name="New assessment").click()
    page.get_by_label("Duration of loss (months)").fill("14")
    page.get_by_label("Pattern").select_option("thinning")
    page.get_by_label("Norwood-Hamilton").select_option("III")
    page.get_by_label("Ferritin (µg/L)").fill("85")
    page.get_by_label("TSH (mIU/L)").fill("1.9")
    page.get_by_label("Miniaturized hairs").check()
    shot(page, "05-assessment-form")
    page.get_by_role("button", name="Review before saving").click()
    page.get_by_text("Eligibility on saving:").wait_for()
    assert not EligibilityDecision.objects.exists()  # the review stores nothing
    assert page.get_by_text("1.9 mIU/L").is_visible()
    shot(page, "05b-assessment-review")
    page.get_by_role("button", name="Save and decide eligibility").click()
    page.get_by_text("Eligibility:").wait_for()
    shot(page, "06-eligibility-decision")
    decision = EligibilityDecision.objects.get()
    assert decision.outcome == "candidate"
    assert page.locator(".badge.candidate").first.is_visible()
