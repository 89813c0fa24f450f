"""Click-to-correct in chromium: a nurse zooms into the analysed image, clicks a detection away,
adds a missed terminal hair by clicking, adds a vellus hair and marks a hair with the keyboard
only, sees the counts change live and saves; the saved correction equals what the page showed
and the automatic result is kept. Checked at 1366, 1024 and 390 px wide (no sideways scroll).
Screenshots under var/screenshots/."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest
from playwright.sync_api import expect

from anagen.clinic.accounts.models import Site
from anagen.clinic.accounts.roles import Role
from anagen.clinic.imaging.models import TrichoscopyImage
from anagen.clinic.patients.services import patient_create
from tests.browser.conftest import shot
from tests.browser.test_inquiry_to_eligibility import sign_in
from tests.clinic.conftest import make_user
from tests.clinic.imaging_helpers import imaging_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: The hair whose marker lies inside the visible stage (after zooming), as the page draws it.
VISIBLE_HAIR = """stage => {
  const box = stage.getBoundingClientRect();
  for (const dot of stage.querySelectorAll('.tv-hair .tv-dot')) {
    const r = dot.getBoundingClientRect(), x = r.x + r.width / 2, y = r.y + r.height / 2;
    if (x > box.x + 20 && x < box.right - 20 && y > box.y + 20 && y < box.bottom - 20
        && document.elementFromPoint(x, y)?.closest('.tv-hair') === dot.parentNode)
      return dot.parentNode.dataset.id;
  }
  return null;
}"""


def live(page) -> dict[str, str]:
    return {
        key: page.locator(f"[data-live={key}]").inner_text()
        for key in ("total", "terminal", "vellus", "density")
    }


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_click_to_correct(live_server, browser_page):
    page, base = browser_page, live_server.url
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
    record = imaging_world(nurse, patient)["trichoscopy"]
    automatic = copy.deepcopy(record.result)
    auto = (record.hair_count, record.terminal_count, record.vellus_count)

    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, base, nurse.email)
    page.goto(f"{base}/imaging/trichoscopy/{record.pk}/")
    viewer = page.locator("[data-correction-viewer][data-ready=true]")
    viewer.wait_for()
    stage = page.locator("[data-stage]")
    expect(page.locator(".tv-hair")).to_have_count(record.hair_count)
    assert live(page)["total"] == str(auto[0]) and live(page)["terminal"] == str(auto[1])
    expect(page.locator("[data-hair-list]")).not_to_have_attribute("open", "")
    no_sideways_scroll(page)
    shot(page, "correct-01-viewer")

    # zoom with the button and the wheel
    page.get_by_role("button", name="Zoom in").click()
    expect(page.locator("[data-zoom-level]")).to_have_text("150 %")
    box = stage.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -100)
    expect(page.locator("[data-zoom-level]")).to_have_text("188 %")

    # click a hair: "not a hair"
    hair_id = stage.evaluate(VISIBLE_HAIR)
    assert hair_id is not None
    hair = page.locator(f'.tv-hair[data-id="{hair_id}"]')
    hair.locator(".tv-dot").click()
    expect(hair).to_have_attribute("aria-checked", "true")
    expect(page.locator("[data-live=total]")).to_have_text(str(auto[0] - 1))
    assert page.locator(f'input[name=removed_hair_ids][value="{hair_id}"]').is_checked()
    shot(page, "correct-02-removed")

    # add a missed terminal hair by clicking on the image
    before = live(page)
    page.get_by_label("adds a terminal hair").check()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)
    expect(page.locator(".tv-added.terminal")).to_have_count(1)
    expect(page.locator("[data-live=terminal]")).to_have_text(str(int(before["terminal"]) + 1))
    expect(page.locator("[data-live=total]")).to_have_text(str(auto[0]))

    # keyboard only: pan, zoom, add a vellus hair at the cross, then mark a hair with Space
    page.get_by_label("adds a terminal hair").focus()
    page.keyboard.press("ArrowRight")  # the mode radio group: now "adds a vellus hair"
    expect(page.get_by_label("adds a vellus hair")).to_be_checked()
    stage.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("+")
    page.keyboard.press("Enter")
    expect(page.locator(".tv-added.vellus")).to_have_count(1)
    expect(page.locator("[data-live=total]")).to_have_text(str(auto[0] + 1))
    page.keyboard.press("Tab")  # the first hair (top to bottom)
    focused = page.evaluate("document.activeElement.dataset.id")
    assert focused is not None
    page.keyboard.press("Space")
    focused_removed = focused != hair_id
    expect(page.locator(f'.tv-hair[data-id="{focused}"]')).to_have_attribute(
        "aria-checked", "true" if focused_removed else "false"
    )
    shot(page, "correct-03-keyboard")
    summary = page.locator("[data-live-summary]").inner_text()
    assert "added on the image" in summary

    shown = live(page)
    added = json.loads(page.locator("input[name=added_hairs]").input_value())
    assert [a["kind"] for a in added] == ["terminal", "vellus"]
    page.get_by_label("What was corrected").fill("A scale removed, two missed hairs placed")
    for width, name in ((1024, "correct-04-1024"), (390, "correct-05-390")):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(100)
        no_sideways_scroll(page)
        shot(page, name)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.get_by_role("button", name="Save correction").click()
    page.get_by_text("Correction saved").wait_for()
    shot(page, "correct-06-saved")

    record = TrichoscopyImage.objects.get(pk=record.pk)
    corrected = record.corrected_counts()
    assert str(corrected["hair_count"]) == shown["total"]
    assert str(corrected["terminal_count"]) == shown["terminal"]
    assert str(corrected["vellus_count"]) == shown["vellus"]
    assert f"{corrected['density_per_cm2']:.1f}" == shown["density"]
    removed = {int(hair_id)} ^ ({int(focused)} if focused else set())
    assert set(record.removed_hair_ids) == removed
    assert [a["kind"] for a in record.added_hairs] == ["terminal", "vellus"]
    height, width = automatic["image_shape"]
    assert all(0 <= a["x"] < width and 0 <= a["y"] < height for a in record.added_hairs)
    assert record.added_hairs == [
        {"x": round(a["x"], 1), "y": round(a["y"], 1), "kind": a["kind"]} for a in added
    ]
    assert record.corrected_by == nurse and record.corrected_at is not None
    assert record.result == automatic
    assert (record.hair_count, record.terminal_count, record.vellus_count) == auto

    # the page shows the saved correction back in the viewer
    page.locator("[data-correction-viewer][data-ready=true]").wait_for()
    expect(page.locator(".tv-added")).to_have_count(2)
    expect(page.locator("[data-live=total]")).to_have_text(shown["total"])
    for width in (1366, 1024, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(100)
        no_sideways_scroll(page)
