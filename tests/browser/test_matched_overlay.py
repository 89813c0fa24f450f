"""The visit page's matched follow-up in chromium: baseline and this visit's lined-up overlay
(same hairs green, lost red, new blue) side by side, at 1366, 1024 and 390 px without
sideways scrolling. Screenshots under var/screenshots/."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect

from anagen.clinic.accounts.models import Site
from anagen.clinic.accounts.roles import Role
from anagen.clinic.imaging import services as imaging
from anagen.clinic.imaging.models import Device
from anagen.clinic.patients.services import patient_create
from anagen.phantoms import FollowUpChange, PhantomSpec, render_followup
from tests.browser.conftest import shot
from tests.browser.test_inquiry_to_eligibility import sign_in
from tests.clinic.conftest import make_user
from tests.clinic.imaging_helpers import UM_PER_PX, upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _png(array) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def test_visit_page_shows_matched_overlay_beside_baseline(live_server, browser_page):
    page, base_url = browser_page, live_server.url
    site = Site.objects.create(code="LDN", name="Riverside Clinic, London")
    nurse = make_user(Role.NURSE, site)
    patient = patient_create(
        actor=nurse,
        site=site,
        given_name="Ada",
        family_name="Quill",
        date_of_birth=date(1988, 4, 2),
        sex="female",
        phone="+44 20 7946 0000",
    )
    pair = render_followup(
        PhantomSpec(width=640, height=480, um_per_px=UM_PER_PX, density_per_cm2=220, seed=17),
        FollowUpChange(max_shift_px=25, max_rotation_deg=2),
    )
    device = Device.objects.create(name="Dermatoscope", magnification="20×", um_per_px=UM_PER_PX)
    target = imaging.target_site_create(
        actor=nurse, patient=patient, zone="vertex", description="Vertex, tattoo dot"
    )
    records = []
    for days, image in ((0, pair.baseline), (90, pair.followup)):
        visit = imaging.imaging_visit_create(
            actor=nurse, patient=patient, taken_on=date.today() - timedelta(days=120 - days)
        )
        record = imaging.trichoscopy_upload(
            actor=nurse,
            visit=visit,
            target_site=target,
            device=device,
            image=upload(f"d{days}.png", _png(image)),
        )
        records.append(record)
    for record in records:  # the analysis jobs ran eagerly on commit; the match followed
        record.refresh_from_db()
    (match,) = records[1].matched_changes.all()
    assert match.status == "matched", match.error

    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, base_url, nurse.email)
    page.goto(f"{base_url}/imaging/visits/{records[1].visit_id}/")
    section = page.locator("section[aria-labelledby=h-matched]")
    expect(
        section.get_by_role("heading", name="Same hairs, matched between visits")
    ).to_be_visible()
    figures = section.locator(".compare-pair figure img")
    expect(figures).to_have_count(2)
    for img in figures.all():
        img.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=img.element_handle()
        )
    expect(section.get_by_text("Baseline,", exact=False).first).to_be_visible()
    assert section.locator("td").nth(1).inner_text() == str(match.lost)
    assert section.locator("td").nth(2).inner_text() == str(match.new)
    left, right = (f.bounding_box() for f in figures.all())
    assert abs(left["y"] - right["y"]) < 2 and right["x"] > left["x"] + left["width"] - 1
    section.scroll_into_view_if_needed()
    shot(page, "matched-01-visit-1366")
    for width in (1024, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, f"matched-02-visit-{width}")
