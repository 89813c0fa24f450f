"""Every clinic page, as a role that may read it, and every role's start page, at 1366, 1024
and 390 px in Chromium.

For each page: nothing is cut off (the page does not scroll sideways; a table wider than its
card sits in a region that scrolls, and no column is hidden) and no internal code reaches the
reader (snake_case names, rule ids, exception class names). Screenshots under
var/screenshots/every-page/.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from anagen.clinic.accounts.policy import PAGES, PUBLIC, allows, home_page
from anagen.clinic.accounts.roles import Role
from tests.browser.conftest import SCREENSHOTS
from tests.clinic.world import build_world, clinic_url_names, url_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1366, 1024, 390)
#: Who looks at a page: the first of these roles that may read it.
READERS = (
    Role.PHYSICIAN,
    Role.NURSE,
    Role.LAB_TECHNICIAN,
    Role.COORDINATOR,
    Role.AUDITOR,
    Role.ADMINISTRATOR,
    Role.RESEARCHER,
    Role.REVIEWER,
)
#: Text a reader should never see: snake_case names, rule ids, exception class names.
RAW_CODES = re.compile(
    r"\b[a-z]+(?:_[a-z0-9]+)+\b"  # snake_case
    r"|\b[a-z]+\.[a-z]+_[a-z_]+\b"  # rule ids like lab.ferritin_low
    r"|\b[A-Z][A-Za-z]*(?:Error|Exception)\b"  # exception class names
    r"|\d\s?um\b"  # micrometres without their symbol
    r"|\b\d{4}-\d{2}-\d{2}\b"  # ISO dates in prose
)

#: In the browser: page overflow, tables wider than a non-scrolling container, hidden cells.
MEASURE = """() => {
  const doc = document.documentElement;
  const problems = [];
  if (doc.scrollWidth > window.innerWidth + 1)
    problems.push(`page scrolls sideways: ${doc.scrollWidth} > ${window.innerWidth}`);
  for (const table of document.querySelectorAll('main table')) {
    if (!table.offsetParent) continue;  // not shown (e.g. a closed details)
    let box = table.parentElement, scrolls = false;
    while (box && box !== document.body) {
      const o = getComputedStyle(box).overflowX;
      if (o === 'auto' || o === 'scroll') { scrolls = true; break; }
      if (box.clientWidth < table.scrollWidth - 1 && o === 'hidden') break;
      box = box.parentElement;
    }
    const holder = table.parentElement;
    if (!scrolls && table.scrollWidth > holder.clientWidth + 1)
      problems.push(`table cut: ${table.scrollWidth} > ${holder.clientWidth} (${table.rows[0]?.innerText.slice(0, 60)})`);
    for (const cell of table.querySelectorAll('th, td'))
      if (getComputedStyle(cell).display === 'none' && cell.closest('tr')?.offsetParent) {
        problems.push(`hidden column: ${cell.innerText.slice(0, 40)}`); break;
      }
  }
  // A control past the right edge (clipped by an overflow: hidden ancestor) cannot be reached.
  for (const el of document.querySelectorAll('main a.button, main button, main input, main select')) {
    const r = el.getBoundingClientRect();
    if (!r.width || el.closest('.table-scroll, [role=region]')) continue;
    if (r.right > window.innerWidth + 1)
      problems.push(`control off-screen: ${(el.innerText || el.name || el.id).slice(0, 40)}`);
  }
  const text = [...document.querySelectorAll('main, header, footer')]
    .map(e => e.innerText).join('\\n');
  return {problems, text};
}"""


def _reader(name: str, staff: dict) -> object | None:
    page = PAGES[name]
    if page.read is None:
        return None
    return next((staff[r] for r in READERS if allows(staff[r], page.read)), None)


def _session_cookie(user, base: str) -> dict:
    client = Client()
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}


@pytest.mark.slow(120)
def test_every_page_fits_and_speaks_clinic_words(live_server, browser_page):
    world = build_world()
    staff, objects = world["staff"], world["objects"]
    page, base = browser_page, live_server.url
    out = SCREENSHOTS / "every-page"
    out.mkdir(parents=True, exist_ok=True)
    visits = []
    for name in clinic_url_names():
        reader = None if name in PUBLIC else _reader(name, staff)
        if name not in PUBLIC and reader is None:
            continue  # a page that only takes a POST
        visits.append((name, reader, url_for(name, objects)))
    # Then every role once more at its own start page: its navigation and first screen.
    visits += [(home_page(staff[role]), staff[role], None) for role in READERS]
    found: list[str] = []
    # The Content-Security-Policy is enforced here as in production: anything it blocks
    # (inline script or style, a foreign source) shows in the console and fails the walk.
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    logged_in = None
    for name, reader, url in visits:
        url = url or reverse(name)
        if reader is not logged_in:
            page.context.clear_cookies()
            if reader is not None:
                page.context.add_cookies([_session_cookie(reader, base)])
            logged_in = reader
        # Asked first without rendering, so files, PDFs, plots and exports are not opened.
        head = page.context.request.get(base + url)
        assert head.status < 400, (name, head.status)
        if "text/html" not in (head.headers.get("content-type") or ""):
            continue
        page.goto(base + url)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            result = page.evaluate(MEASURE)
            for problem in result["problems"]:
                found.append(f"{name} @ {width}px: {problem}")
            text = re.sub(r"\S+@\S+", " ", result["text"])  # e-mail addresses are data
            for code in sorted(set(RAW_CODES.findall(text))):
                found.append(f"{name} @ {width}px: raw code {code!r}")
            who = reader.role if reader is not None else "public"
            shot_name = f"{name.replace(':', '-')}-{who}-{width}.png"
            page.screenshot(path=str(out / shot_name), full_page=True)
        found += [
            f"{name}: blocked by the Content-Security-Policy: {text[:300]}" for text in blocked
        ]
        blocked.clear()
    assert not found, "\n".join(found)
