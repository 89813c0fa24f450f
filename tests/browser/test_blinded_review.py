"""The blinded photographic review in chromium: a reviewer signs in to their queue, scores a
pair shown side by side, and the pair leaves the queue. Screenshots under var/screenshots/."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from anagen.clinic.accounts.models import Site
from anagen.clinic.accounts.roles import Role
from anagen.clinic.imaging import services as imaging
from anagen.clinic.patients.services import patient_create
from anagen.clinic.review.models import ReviewScore
from anagen.clinic.review.services import review_pairs_create
from tests.browser.conftest import shot
from tests.clinic.conftest import PASSWORD, make_user
from tests.clinic.imaging_helpers import phantom_png, upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reviewer_scores_a_blinded_pair(live_server, browser_page):
    page, base = browser_page, live_server.url
    site = Site.objects.create(code="LDN", name="Riverside Clinic, London")
    physician = make_user(Role.PHYSICIAN, site)
    reviewer = make_user(Role.REVIEWER, site)
    patient = patient_create(
        actor=physician,
        site=site,
        given_name="Ada",
        family_name="Quill",
        date_of_birth=date(1988, 4, 2),
        sex="female",
        phone="+44 20 7946 0000",
    )
    for i, days in enumerate((200, 20)):
        visit = imaging.imaging_visit_create(
            actor=physician, patient=patient, taken_on=date.today() - timedelta(days=days)
        )
        imaging.photo_upload(
            actor=physician,
            visit=visit,
            view="top",
            image=upload("top.png", phantom_png(20 + i, width=640, height=480)),
        )
    assert review_pairs_create(actor=physician, patient=patient) == 1

    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(reviewer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{base}/review/")
    shot(page, "review-01-queue")
    page.get_by_role("link", name="Start scoring").click()
    page.get_by_role("img", name="Left photo of the pair").wait_for()
    page.get_by_role("img", name="Right photo of the pair").wait_for()
    for img in ("Left photo of the pair", "Right photo of the pair"):
        assert page.get_by_role("img", name=img).evaluate("i => i.naturalWidth") > 0
    html = page.content()
    assert "Quill" not in html and patient.mrn not in html
    shot(page, "review-02-pair")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "review-03-pair-phone")
    page.set_viewport_size({"width": 1180, "height": 900})
    page.get_by_label("+1 Right is slightly better").check()
    page.get_by_role("button", name="Save score").click()
    page.wait_for_url(f"{base}/review/")
    page.get_by_text("No pairs are waiting for you.").wait_for()
    shot(page, "review-04-done")
    (score,) = ReviewScore.objects.all()
    assert score.reviewer == reviewer and score.right_vs_left == 1
