"""Issue 11's walk in chromium: the registry, a cohort comparison, a patient's before/after
slider (by keyboard), the patient report PDF, the "what to expect" sheet and the cohort PDF as
a physician; then a researcher, who sees the registry without names and no chart.

The registry is built through the services: one patient treated and measured end to end
(assessment, consent, release, session, adverse event, analysed trichoscopy and photos at two
visits), and a few more with outcome rows from ``tests/clinic/registry/seed.py``. The blinded
review has its own walk (``test_blinded_review.py``). Screenshots: var/screenshots/11-*.png.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from django.db.models import F
from django.db.models.signals import post_save

from anagen.clinic.accounts.models import Site
from anagen.clinic.accounts.roles import Role
from anagen.clinic.imaging import services as imaging
from anagen.clinic.imaging.models import TrichoscopyImage
from anagen.clinic.patients.services import patient_create
from anagen.clinic.registry.receivers import source_changed
from anagen.clinic.treatment.models import AdverseEvent, ScheduledVisit, TreatmentSession
from anagen.clinic.treatment.services import adverse_event_report
from tests.browser.conftest import shot
from tests.browser.test_inquiry_to_eligibility import sign_in, sign_out
from tests.clinic.conftest import PASSWORD, make_user
from tests.clinic.imaging_helpers import imaging_world, phantom_png, upload
from tests.clinic.registry.seed import seed_patient
from tests.clinic.treatment_helpers import (
    administer,
    consented_plan,
    make_candidate,
    released_product,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1366, 1024, 390)

#: Cells with text that the page hides: zero-sized (display:none) or cut off by an ancestor
#: that clips instead of scrolling. A table wider than its card must scroll inside it.
CLIPPED_CELLS = """() => {
  const bad = [];
  for (const cell of document.querySelectorAll("main td, main th")) {
    const text = cell.textContent.trim();
    if (!text) continue;
    const r = cell.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) { bad.push(text + " (hidden)"); continue; }
    const own = getComputedStyle(cell);
    if (own.overflowX !== "visible" && cell.scrollWidth > cell.clientWidth + 1) {
      bad.push(text + " (cut inside its cell)"); continue;
    }
    for (let a = cell.parentElement; a && a !== document.body; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (style.overflowX === "auto" || style.overflowX === "scroll") break;
      if (style.overflowX === "hidden" || style.overflowX === "clip") {
        const box = a.getBoundingClientRect();
        if (r.left < box.left - 1 || r.right > box.right + 1) bad.push(text + " (clipped)");
        break;
      }
    }
  }
  return bad;
}"""


def check_widths(page, name: str) -> None:
    """At each width: no sideways scrolling of the page, no table cell hidden or cut off."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(50)
        scroll, inner = page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert scroll <= inner + 1, f"{name} at {width}px scrolls sideways ({scroll} > {inner})"
        assert page.evaluate(CLIPPED_CELLS) == [], f"{name} at {width}px hides table cells"
        shot(page, f"11-{name}-{width}")
    page.set_viewport_size({"width": 1180, "height": 900})


def image_loaded(locator) -> bool:
    locator.scroll_into_view_if_needed()
    locator.page.wait_for_function("img => img.complete", arg=locator.element_handle())
    return locator.evaluate("img => img.naturalWidth") > 0


def pdf_text(data: bytes) -> tuple[int, str]:
    """(pages, text) of a WeasyPrint PDF, read with the standard library only (no pypdf here):
    inflate every stream, map glyphs back through the fonts' ToUnicode CMaps and join the
    text-showing operators of the content streams."""
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    streams = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            streams.append(zlib.decompress(m.group(1)))
        except zlib.error:
            streams.append(m.group(1))
    body = data + b"".join(streams)
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", body))
    glyphs: dict[bytes, str] = {}
    for s in streams:
        if b"begincmap" not in s:
            continue
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", s, re.S):
            for src, dst in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
                glyphs.setdefault(src.lower(), bytes.fromhex(dst.decode()).decode("utf-16-be"))
    words = []
    for s in streams:
        if b" Tf" not in s:
            continue
        for shown in re.findall(rb"\[(.*?)\]\s*TJ|<([0-9a-fA-F]+)>\s*Tj", s, re.S):
            hexes = re.findall(rb"<([0-9a-fA-F]+)>", shown[0] or b"<" + shown[1] + b">")
            words.append(
                "".join(
                    glyphs.get(h[i : i + 4].lower(), "\ufffd")
                    for h in hexes
                    for i in range(0, len(h), 4)
                )
            )
    return pages, " ".join(" ".join(words).split())


@contextmanager
def outcome_rows_written_directly() -> Iterator[None]:
    """``seed_patient`` writes the outcome rows itself: its placeholder images must not start
    the rebuild from the (unanalysed) images, which commits at once in a live-server test."""
    post_save.disconnect(source_changed, sender=TrichoscopyImage)
    try:
        yield
    finally:
        post_save.connect(source_changed, sender=TrichoscopyImage)


def build_registry():
    site = Site.objects.create(code="LDN", name="Riverside Clinic, London")
    physician = make_user(Role.PHYSICIAN, site)
    nurse = make_user(Role.NURSE, site)
    lab = make_user(Role.LAB_TECHNICIAN, site)
    researcher = make_user(Role.RESEARCHER, site)

    # One patient through the pathway: candidate, consent, release, session, adverse event.
    patient = patient_create(
        actor=physician,
        site=site,
        given_name="Jasper",
        family_name="Thistlewood",
        date_of_birth=date(1984, 3, 14),
        sex="male",
        phone="+44 7700 900555",
    )
    make_candidate(physician, patient)
    plan = consented_plan(physician, nurse, patient)
    session = administer(physician, nurse, plan, released_product(physician, lab, plan))
    day0 = date.today() - timedelta(days=96)
    # The session and its follow-up schedule moved to the day after the baseline photos (the
    # way consented_plan backdates its consent).
    back = timedelta(days=95)
    TreatmentSession.objects.filter(pk=session.pk).update(
        started_at=session.started_at - back, ended_at=session.ended_at - back
    )
    session.refresh_from_db()
    ScheduledVisit.objects.filter(patient=patient).update(
        due_on=F("due_on") - back,
        window_start=F("window_start") - back,
        window_end=F("window_end") - back,
    )
    adverse_event_report(
        actor=physician,
        patient=patient,
        type=AdverseEvent.Type.BRUISING,
        site=AdverseEvent.Site.INJECTION,
        grade=1,
        onset_on=day0 + timedelta(days=2),
        relatedness=AdverseEvent.Relatedness.PROBABLE,
        session=session,
    )
    # Photos of the same view and analysed trichoscopy at baseline and at day 92.
    world = imaging_world(nurse, patient, taken_on=day0, seed=3)
    later = imaging.imaging_visit_create(
        actor=nurse, patient=patient, taken_on=day0 + timedelta(days=92)
    )
    imaging.photo_upload(
        actor=nurse, visit=later, view="top", image=upload("p.png", phantom_png(4))
    )
    record = imaging.trichoscopy_upload(
        actor=nurse,
        visit=later,
        target_site=world["site"],
        device=world["device"],
        image=upload("m.png", phantom_png(4)),
    )
    imaging.trichoscopy_analyse(record=record)

    # More registry patients with known outcome rows: three men, three women.
    with outcome_rows_written_directly():
        others = seed_others(nurse, site)
    return {
        "physician": physician,
        "researcher": researcher,
        "patient": patient,
        "everyone": [patient, *others],
    }


def seed_others(nurse, site):
    return [
        seed_patient(
            nurse,
            site,
            n=i,
            densities={0: 100.0 + i, 92: 112.0 + 3 * i, 180: 118.0 + 2 * i},
            sex="male",
            age=40 + i,
        )
        for i in range(3)
    ] + [
        seed_patient(
            nurse,
            site,
            n=10 + i,
            densities={0: 120.0 - i, 95: 124.0 + i},
            sex="female",
            age=55,
            stage="Ludwig II",
        )
        for i in range(3)
    ]


@pytest.mark.slow(40)
def test_registry_progress_and_reports_walk(live_server, browser_page):
    page, base = browser_page, live_server.url
    world = build_registry()
    patient = world["patient"]

    # 1. The physician opens the registry and narrows it to men.
    sign_in(page, base, world["physician"].email)
    page.get_by_role("link", name="Registry", exact=True).click()
    page.wait_for_url(f"{base}/registry/")
    shot(page, "11-01-registry")
    notice = page.get_by_role("note").first.inner_text()
    assert notice.count("nvestigational") == 1 and "not a controlled trial" in notice, notice
    page.get_by_label("Sex").select_option(label="Male")
    page.get_by_role("button", name="Show statistics").click()
    page.wait_for_url(re.compile(r".*sex=male.*"))
    stats = page.get_by_role("region", name=re.compile("Hair density"))
    assert "Sex: Male" in stats.inner_text()
    assert "4 patients" in stats.inner_text()
    day90 = stats.get_by_role("row", name=re.compile(r"^Day 90\b"))
    cells = day90.get_by_role("cell").all_inner_texts()
    assert cells[0] == "4", cells  # n at day 90: the treated patient and three seeded men
    assert re.search(r"-?\d+(\.\d+)? to -?\d+(\.\d+)?", cells[3]), cells  # the 95 % CI
    assert image_loaded(stats.get_by_role("img"))
    shot(page, "11-02-cohort-men")
    check_widths(page, "registry")

    # 2. Completeness and adverse events of that cohort.
    completeness = page.get_by_role("region", name="Data completeness")
    day90 = completeness.get_by_role("row", name=re.compile(r"^Day 90\b"))
    assert day90.get_by_role("cell").all_inner_texts()[:2] == ["1", "1"]  # due and done
    events = page.get_by_role("region", name="Adverse events")
    bruising = events.get_by_role("row", name=re.compile(r"^Bruising"))
    assert bruising.first.is_visible()
    events.scroll_into_view_if_needed()
    shot(page, "11-03-completeness-events")

    # 3. The cohort PDF of the men.
    href = page.get_by_role("link", name="Cohort PDF").get_attribute("href")
    response = page.request.get(f"{base}{href}")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pages, text = pdf_text(response.body())
    assert pages >= 1 and "Investigational" in text, text[:400]

    # 4. Men against women.
    page.get_by_role("link", name="Compare two cohorts").click()
    page.get_by_role("group", name="Cohort A").get_by_label("Sex").select_option(label="Male")
    page.get_by_role("group", name="Cohort B").get_by_label("Sex").select_option(label="Female")
    page.get_by_role("button", name="Compare").click()
    diff = page.get_by_role("region", name=re.compile("A minus B"))
    assert "Cohort A: 4 patients" in diff.inner_text()
    assert "Cohort B: 3 patients" in diff.inner_text()
    row = diff.get_by_role("row", name=re.compile(r"^Day 90\b"))
    assert row.get_by_role("cell").first.inner_text() == "4 / 3"
    assert image_loaded(diff.get_by_role("img"))
    shot(page, "11-04-compare-cohorts")
    check_widths(page, "registry-compare")
    for person in world["everyone"]:
        assert person.family_name not in page.content() and person.mrn not in page.content()

    # 5. The patient's progress page and the before/after slider, by keyboard.
    page.goto(f"{base}/patients/{patient.pk}/")
    page.get_by_role("link", name="Progress and imaging").click()
    page.get_by_role("heading", name=re.compile("target site")).first.wait_for()
    shot(page, "11-05-progress")
    check_widths(page, "progress")
    page.get_by_role("region", name="Before and after").get_by_role(
        "button", name="Compare"
    ).click()
    page.wait_for_url(re.compile(r".*/compare/\?.*"))
    slider = page.get_by_role("slider")
    box = page.locator("[data-compare]")
    assert box.evaluate("b => b.style.getPropertyValue('--reveal')") == "50%"
    slider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("PageUp")  # a big step
    reveal = box.evaluate("b => b.style.getPropertyValue('--reveal')")
    assert reveal != "50%" and int(reveal.rstrip("%")) > 55, reveal
    assert (
        slider.get_attribute("aria-valuetext") == f"{reveal.rstrip('%')} % of the later photo shown"
    )
    page.keyboard.press("Home")
    assert box.evaluate("b => b.style.getPropertyValue('--reveal')") == "0%"
    page.keyboard.press("ArrowRight")
    # Tab leaves the slider (no keyboard trap).
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.type") != "range"
    for img in page.locator(".compare-pair img").all():
        assert image_loaded(img)
    shot(page, "11-06-before-after")
    check_widths(page, "progress-compare")

    # 6. The patient report PDF.
    page.get_by_role("link", name="← Progress and outcomes").click()
    href = page.get_by_role("link", name="Patient report (PDF)").get_attribute("href")
    response = page.request.get(f"{base}{href}")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pages, text = pdf_text(response.body())
    assert pages >= 1
    assert "Investigational treatment." in text, text[:400]
    assert "therapy for hair loss is investigational" in text
    assert "Thistlewood" in text

    # 7. What to expect: too few similar patients, so no numbers.
    page.goto(f"{base}/patients/{patient.pk}/")
    page.get_by_role("link", name="What to expect").click()
    page.get_by_role("heading", name="Too few similar patients to say").wait_for()
    assert "we do not show any numbers" in page.content()
    assert page.get_by_role("table").count() == 0
    notice = page.get_by_role("note").first.inner_text()
    assert notice.count("nvestigational") == 1 and "not a controlled trial" in notice, notice
    shot(page, "11-07-what-to-expect")
    sign_out(page)

    # 8. A researcher lands on the registry: no names, no MRNs, no chart.
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(world["researcher"].email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{base}/registry/")
    page.get_by_role("button", name="Show statistics").click()
    page.get_by_role("region", name="Adverse events").wait_for()
    assert image_loaded(
        page.get_by_role("region", name=re.compile("Hair density")).get_by_role("img")
    )
    html = page.content()
    for person in world["everyone"]:
        assert person.family_name not in html and person.given_name not in html
        assert person.mrn not in html
    shot(page, "11-08-researcher-registry")
    response = page.goto(f"{base}/patients/{patient.pk}/")
    assert response is not None and response.status == 403
    shot(page, "11-09-researcher-no-chart")
