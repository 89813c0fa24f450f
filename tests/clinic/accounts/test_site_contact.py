"""A site's contact details and currency: printed wherever a patient is told to get in touch,
and the quote is in the site's own currency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.common import clock
from anagen.clinic.treatment import services
from anagen.clinic.treatment.defaults import ensure_defaults
from anagen.clinic.treatment.documents import consent_snapshot_html
from anagen.clinic.treatment.error_codes import TreatmentErrorCode as Code
from anagen.clinic.treatment.forms import PlanForm
from tests.clinic.documents import laid_out_text
from tests.clinic.refusals import raises_code
from tests.clinic.treatment_helpers import consented_plan, make_candidate

pytestmark = pytest.mark.django_db

PHONE = "+44 20 7946 0321"


@pytest.fixture
def london(site):
    site.phone, site.email, site.currency = PHONE, "ldn@clinic.example", "GBP"
    site.address = "12 Riverside Walk"
    site.save()
    return site


def test_a_quote_is_in_the_sites_currency_never_the_protocols(staff, patient, london):
    physician = staff[Role.PHYSICIAN]
    make_candidate(physician, patient)
    protocol, _ = ensure_defaults()
    assert protocol.currency == "EUR"
    assert PlanForm.initial_from(protocol, "GBP")["price_min"] is None
    assert PlanForm.initial_from(protocol, "EUR")["price_min"] == protocol.price_min
    with raises_code(Code.PRICE_CURRENCY, "price_min"):
        services.plan_create(actor=physician, patient=patient, protocol=protocol)
    plan = services.plan_create(
        actor=physician,
        patient=patient,
        protocol=protocol,
        price_min=Decimal("3400"),
        price_max=Decimal("5100"),
    )
    assert plan.currency == "GBP" and plan.price_min == Decimal("3400")


def test_the_consent_shows_the_whole_plan_and_how_to_reach_the_clinic(staff, patient):
    physician, nurse = staff[Role.PHYSICIAN], staff[Role.NURSE]
    patient.site.phone = PHONE
    patient.site.save()
    plan = consented_plan(physician, nurse, patient)
    consent = plan.consents.get()
    text = laid_out_text(
        consent_snapshot_html(
            plan=plan,
            consent_text=consent.consent_text,
            signer_name=consent.signer_name,
            signed_at=clock.now(),
            meaning=consent.meaning,
            witness=nurse,
        )
    )
    assert f"{plan.planned_dose_cells:,}".replace(",", "") in text.replace(",", "")
    for day, window in zip(plan.follow_up_days, plan.follow_up_window_days, strict=True):
        assert f"day {day} (± {window} days)" in text
    assert PHONE in text and f"{plan.planned_sessions}, every {plan.interval_weeks} weeks" in text


def test_the_public_form_gives_the_clinics_numbers(client, london, other_site):
    html = client.get(reverse("intake:request")).content.decode()
    call = html[html.index('id="h-call"') :]
    assert 'href="tel:+442079460321"' in call and PHONE in call
    assert other_site.name not in call  # no number: not listed


def test_phone_numbers_are_click_to_call(client, staff, patient):
    client.force_login(staff[Role.COORDINATOR])
    html = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    dial = "".join(c for c in patient.phone if c.isdigit() or c == "+")
    assert f'href="tel:{dial}"' in html
