"""Password prompts (the verifier's password, the release signature) share the login lockout.

Five wrong prompts lock the user: the sixth prompt is refused even with the right password, and
(through the web, from the same client) so is a login. See ``accounts/passwords.py``.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from anagen.clinic.accounts.passwords import is_locked_out
from anagen.clinic.accounts.roles import Role
from anagen.clinic.treatment import services
from tests.clinic.conftest import PASSWORD
from tests.clinic.treatment.test_views import session_post
from tests.clinic.treatment_helpers import (
    administer,
    consented_plan,
    harvest,
    released_product,
    second_lab_technician,
)

pytestmark = pytest.mark.django_db

LIMIT = 5  # settings.AXES_FAILURE_LIMIT


@pytest.fixture
def team(staff):
    return staff[Role.PHYSICIAN], staff[Role.NURSE], staff[Role.LAB_TECHNICIAN]


@pytest.fixture
def plan(team, patient):
    physician, nurse, _ = team
    return consented_plan(physician, nurse, patient)


def quarantined(physician, lab, plan):
    product = harvest(physician, plan).products.get()
    return services.product_record_results(
        actor=lab,
        product=product,
        processing_ended_at=timezone.now() - timedelta(minutes=30),
        total_nucleated_cells=10_000_000,
        viable_fraction=Decimal("0.85"),
        viable_cells=8_500_000,
        volume_ml=Decimal("4"),
        qc_sterility="pending",
        qc_endotoxin="pass",
    )


def login_refused(user) -> bool:
    """Whether a fresh browser (same address as the test client) cannot sign ``user`` in."""
    browser = Client()
    response = browser.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    signed_in = browser.get(reverse("intake:home")).status_code == 200
    return not signed_in and (
        response.status_code == 429 or "Too many failed" in response.content.decode()
    )


# --- services called without a request -------------------------------------------------------


def test_wrong_verifier_passwords_lock_the_verifier_prompt(team, plan):
    physician, nurse, lab = team
    product = released_product(physician, lab, plan)
    for _ in range(LIMIT):
        with pytest.raises(services.IdentityCheckFailed, match="password does not match"):
            administer(physician, nurse, plan, product, verifier_password="guess")
    # The right password now: refused, the account is locked.
    with pytest.raises(services.IdentityCheckFailed, match="locked"):
        administer(physician, nurse, plan, product)
    product.refresh_from_db()
    assert product.status == "released"
    assert is_locked_out(nurse)
    assert AccessAttempt.objects.get(username=nurse.email).failures_since_start == LIMIT


def test_wrong_release_passwords_lock_the_release_signature(team, plan):
    physician, _, lab = team
    product = quarantined(physician, lab, plan)
    lab = second_lab_technician(lab)  # four-eyes: the releaser did not record the results
    for _ in range(LIMIT):
        with pytest.raises(ValidationError, match="password does not match"):
            services.product_release(actor=lab, product=product, password="guess")
    with pytest.raises(ValidationError, match="locked"):
        services.product_release(actor=lab, product=product, password=PASSWORD)
    product.refresh_from_db()
    assert product.status == "quarantine"
    assert is_locked_out(lab)


def test_a_right_password_before_the_limit_still_works(team, plan):
    physician, nurse, lab = team
    product = released_product(physician, lab, plan)
    for _ in range(LIMIT - 1):
        with pytest.raises(services.IdentityCheckFailed):
            administer(physician, nurse, plan, product, verifier_password="guess")
    session = administer(physician, nurse, plan, product)
    assert session.verified_by == nurse


# --- through the pages: the lockout is the login's own ---------------------------------------


def test_verifier_guessed_on_the_session_page_is_locked_out_of_login(client, team, plan):
    physician, nurse, lab = team
    product = released_product(physician, lab, plan)
    client.force_login(physician)
    url = reverse("treatment:session_new", args=[plan.pk])
    for _ in range(LIMIT):
        page = client.post(url, session_post(plan, product, nurse, verifier_password="guess-1"))
        # The form with its error, not the lockout page in front of the physician.
        assert page.status_code == 200 and "password does not match" in page.content.decode()
    page = client.post(url, session_post(plan, product, nurse))
    assert page.status_code == 200 and "locked" in page.content.decode()
    product.refresh_from_db()
    assert product.status == "released"
    assert login_refused(nurse)
    assert not login_refused(physician)  # the person who typed is not the one locked
    # What was typed is never stored by axes.
    assert not any("guess-1" in a.post_data for a in AccessAttempt.objects.all())


def test_release_password_guessed_on_the_product_page_is_locked_out_of_login(client, team, plan):
    physician, _, lab = team
    product = quarantined(physician, lab, plan)
    lab = second_lab_technician(lab)  # four-eyes: the releaser did not record the results
    client.force_login(lab)
    url = reverse("treatment:product_release", args=[product.pk])
    for _ in range(LIMIT):
        page = client.post(url, {"password": "guess-2"})
        assert page.status_code == 200 and "password does not match" in page.content.decode()
    page = client.post(url, {"password": PASSWORD})
    assert "locked" in page.content.decode()
    product.refresh_from_db()
    assert product.status == "quarantine"
    assert login_refused(lab)
