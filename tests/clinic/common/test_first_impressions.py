"""What a new clinic sees first: no sign-up link, a favicon, one brand, honest counts and no
clinical value preselected on a form."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from anagen.clinic.accounts.models import Site, User
from anagen.clinic.accounts.roles import Role
from anagen.clinic.intake.forms import ConvertInquiryForm
from anagen.clinic.treatment.forms import AdverseEventForm
from tests.clinic.factories import AppointmentFactory

pytestmark = pytest.mark.django_db


def _selected(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, name
    chosen = re.findall(r'<option value="([^"]*)"[^>]*selected', select.group(1))
    return [value for value in chosen if value]  # the empty "choose" entry is no value


def test_the_login_page_offers_no_sign_up_and_the_site_has_an_icon(client):
    html = client.get(reverse("account_login")).content.decode()
    assert "sign up" not in html.lower() and reverse("account_signup") not in html
    assert 'rel="icon"' in html


def test_the_brand_names_the_clinic_once(client, staff):
    client.force_login(staff[Role.COORDINATOR])
    html = client.get(reverse("intake:home")).content.decode()
    brand = re.search(r'<a class="brand"[^>]*>(.*?)</a>', html, re.S).group(1)
    assert re.sub(r"<[^>]+>", " ", brand).split().count("Anagen") == 1


def test_the_home_page_says_how_many_appointments_it_leaves_out(client, staff, patient):
    physician = staff[Role.PHYSICIAN]
    start = timezone.localtime().replace(hour=8, minute=0, second=0, microsecond=0)
    for i in range(9):
        AppointmentFactory(
            patient=patient, clinician=physician, starts_at=start + timedelta(minutes=30 * i)
        )
    client.force_login(staff[Role.COORDINATOR])
    html = client.get(reverse("intake:home")).content.decode()
    assert "9 appointments" in html
    assert html.count("<li>") - nav_items(html) == 8  # the first 8 listed
    assert "1 more in the day view" in html


def nav_items(html: str) -> int:
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S)
    return nav.group(1).count("<li>") if nav else 0


def test_no_clinical_value_is_preselected(patient):
    convert = str(ConvertInquiryForm(sites=Site.objects.all(), clinicians=User.objects.none()))
    assert _selected(convert, "sex") == []
    event = str(AdverseEventForm(patient=patient))
    for name in ("type", "site", "grade", "relatedness"):
        assert _selected(event, name) == [], name
    form = AdverseEventForm(patient=patient, data={"onset_on": timezone.localdate().isoformat()})
    assert not form.is_valid()
    assert {"type", "site", "grade", "relatedness"} <= set(form.errors)
