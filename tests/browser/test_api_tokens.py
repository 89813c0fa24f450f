"""The API tokens on the security page, in Chromium at 1366, 1024 and 390 px: created from the
keyboard alone, shown once, listed and revoked; nothing cut off or scrolling sideways."""

from __future__ import annotations

import pytest

from anagen.clinic.accounts.roles import Role
from anagen.clinic.api.models import ApiToken
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_every_page import MEASURE, WIDTHS, _session_cookie
from tests.clinic.api.conftest import enrol_totp
from tests.clinic.factories import SiteFactory, staff_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits(page, name: str) -> list[str]:
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        problems += [f"{name} @ {width}px: {p}" for p in page.evaluate(MEASURE)["problems"]]
        page.screenshot(path=str(SCREENSHOTS / f"api-tokens-{name}-{width}.png"), full_page=True)
    return problems


@pytest.mark.slow(15)
def test_create_list_and_revoke_a_token_by_keyboard(live_server, browser_page, monkeypatch):
    # The session is opened directly (no sign-in form): treat it as one that passed the code.
    monkeypatch.setattr("anagen.clinic.api.pages.second_factor_done", lambda request: True)
    physician = staff_at(SiteFactory(code="LDN"))[Role.PHYSICIAN]
    enrol_totp(physician)
    page, base = browser_page, live_server.url
    page.context.add_cookies([_session_cookie(physician, base)])
    problems = []
    page.goto(base + "/accounts/2fa/")
    problems += _fits(page, "security-empty")
    page.get_by_role("link", name="Create an API token").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/api-tokens/new/")
    problems += _fits(page, "form")
    page.get_by_label("Name").fill("EHR bridge")
    page.get_by_label("Valid for (days)").fill("30")
    page.get_by_label("Patient view").check()
    page.get_by_label("Valid for (days)").focus()
    page.keyboard.press("Enter")  # submits the form
    page.wait_for_selector("#api-key")
    key = page.get_by_role("textbox", name="Token").input_value()
    assert key.startswith("ank_")
    problems += _fits(page, "created")
    token = ApiToken.objects.get()
    assert token.scopes == ["patient_view"]
    page.reload()
    assert page.locator("#api-key").count() == 0  # shown once
    page.goto(base + "/accounts/2fa/")
    assert "EHR bridge" in page.content()
    problems += _fits(page, "security-listed")
    page.get_by_role("button", name="Revoke “EHR bridge”").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "is revoked" in page.content()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert not problems, "\n".join(problems)
