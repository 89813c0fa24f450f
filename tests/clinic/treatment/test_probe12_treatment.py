"""Probe: follow-up booking and list, cryo inventory, lab pages, plan form with hostile input."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.common import clock
from anagen.clinic.common.forms import submission_token_input
from anagen.clinic.intake.models import Appointment
from anagen.clinic.treatment import selectors, services
from anagen.clinic.treatment.models import CellProduct, ScheduledVisit
from tests.clinic.factories import PatientFactory, staff_at
from tests.clinic.treatment_helpers import administer, released_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def visits(team, plan):
    physician, nurse, lab = team
    administer(physician, nurse, plan, released_product(physician, lab, plan))
    return ScheduledVisit.objects.filter(plan=plan).order_by("due_on")


@pytest.mark.parametrize(
    "query",
    [
        "state=%27%22<x>",
        "site=abc",
        "site=99999",
        "physician=-1",
        "due_within=7000000000000000000000",
        "due_within=abc",
        "page=999999",
        "page=-5",
        "page=1e9",
    ],
)
def test_follow_up_list_hostile_filters(client, staff, visits, query):
    client.force_login(staff[Role.COORDINATOR])
    response = client.get(reverse("treatment:follow_ups") + "?" + query)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "query",
    ["day=9999-12-31", "day=0001-01-01", "slot=garbage", "clinician=²", "clinician=" + "9" * 40],
)
def test_follow_up_book_hostile_get(client, staff, visits, query):
    client.force_login(staff[Role.COORDINATOR])
    url = reverse("treatment:follow_up_book", args=[visits.first().pk])
    assert client.get(url + "?" + query).status_code == 200


def test_follow_up_book_other_site_role_and_resubmit(client, staff, team, visits, other_site):
    visit = visits.filter(kind=ScheduledVisit.Kind.FOLLOW_UP).first()
    url = reverse("treatment:follow_up_book", args=[visit.pk])
    far = staff_at(other_site)
    client.force_login(far[Role.COORDINATOR])
    assert client.get(url).status_code == 404
    client.force_login(staff[Role.LAB_TECHNICIAN])
    assert client.get(url).status_code in (403, 404)
    client.force_login(staff[Role.COORDINATOR])
    page = client.get(url)
    token = page.context["form"].data.get("form_token") if page.context["form"].is_bound else None
    html = page.content.decode()
    import re

    match = re.search(r'name="(\w*token\w*)" value="([^"]+)"', html)
    assert match, "the booking form carries a submission token"
    start = selectors.suggested_start(visit=visit, today=clock.localdate())
    data = {
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "clinician": team[0].pk,
        match[1]: match[2],
    }
    first = client.post(url, data)
    assert first.status_code == 302
    again = client.post(url, data)  # Back + resubmit
    assert again.status_code in (200, 302, 409)
    assert Appointment.objects.filter(patient=visit.patient, kind="follow_up").count() == 1
    assert token is None or token
    assert submission_token_input


def test_cryo_inventory_survives_odd_box_names_and_hostile_search(client, staff, team, plan):
    physician, _, lab = team
    product = released_product(physician, lab, plan)
    for box, position in (("²", "1"), ("9" * 20, "2"), ("٣", "3")):
        CellProduct.objects.filter(pk=product.pk).update(
            status=CellProduct.Status.STORED, freezer="F1", rack="R1", box=box, position=position
        )
        client.force_login(lab)
        for q in ("", "%", "<script>", "²", "\x00", "A" * 100):
            response = client.get(reverse("treatment:cryo_inventory"), {"q": q})
            assert response.status_code == 200
            assert "<script>" not in response.content.decode().split("<main", 1)[-1]


def test_cryo_inventory_and_lab_pages_hide_other_sites(client, staff, other_site):
    far = staff_at(other_site)
    far_patient = PatientFactory(site=other_site, created_by=far[Role.COORDINATOR])
    from tests.clinic.treatment_helpers import consented_plan, make_candidate

    make_candidate(far[Role.PHYSICIAN], far_patient)
    far_plan = consented_plan(far[Role.PHYSICIAN], far[Role.NURSE], far_patient)
    far_product = released_product(far[Role.PHYSICIAN], far[Role.LAB_TECHNICIAN], far_plan)
    CellProduct.objects.filter(pk=far_product.pk).update(
        status=CellProduct.Status.STORED, freezer="FarFreezer", rack="R", box="B", position="1"
    )
    client.force_login(staff[Role.LAB_TECHNICIAN])
    for name in ("treatment:lab_home", "treatment:cryo_inventory", "treatment:lab_worklist"):
        response = client.get(reverse(name), {"q": far_product.product_code})
        body = response.content.decode()
        if name == "treatment:cryo_inventory":
            assert response.context["inventory"].matches == []
        else:
            assert far_product.product_code not in body
        assert "FarFreezer" not in body
    for role in (Role.COORDINATOR,):  # the auditor reads the lab by design (LAB_VIEW)
        client.force_login(staff[role])
        assert client.get(reverse("treatment:cryo_inventory")).status_code in (403, 302)


@pytest.mark.parametrize("protocol", ["²", "9" * 5000, "-1", "abc"])
def test_plan_new_hostile_protocol(client, staff, candidate, protocol):
    client.force_login(staff[Role.PHYSICIAN])
    url = reverse("treatment:plan_new", args=[candidate.pk])
    assert client.get(url, {"protocol": protocol}).status_code == 200


def test_plan_negative_price_is_refused(staff, candidate):
    from anagen.clinic.treatment.defaults import ensure_defaults

    protocol, _ = ensure_defaults()
    with pytest.raises(ValidationError):
        services.plan_create(
            actor=staff[Role.PHYSICIAN],
            patient=candidate,
            protocol=protocol,
            price_min=Decimal("-100"),
            price_max=Decimal("-1"),
        )


def test_storage_parsing_of_digits_int_refuses():
    from anagen.clinic.treatment import storage

    assert storage.position_number("²") is None
    assert storage.position_number("9" * 5000) is None
    assert storage.natural_key("box ²") and storage.natural_key("9" * 5000)


def test_plan_page_quotes_in_the_sites_currency(client, staff, candidate):
    from anagen.clinic.treatment.defaults import ensure_defaults
    from anagen.clinic.treatment.models import TreatmentPlan

    protocol, _ = ensure_defaults()
    site = candidate.site
    site.currency = "GBP" if protocol.currency != "GBP" else "TRY"
    site.save()
    client.force_login(staff[Role.PHYSICIAN])
    url = reverse("treatment:plan_new", args=[candidate.pk])
    page = client.get(url)
    assert page.context["form"].initial.get("price_min") is None
    data = {
        "protocol": protocol.pk,
        "method": "svf_mechanical",
        "target_zones": ["vertex"],
        "planned_sessions": "2",
        "interval_weeks": "10",
        "planned_dose_cells": "4000000",
    }
    assert client.post(url, data).status_code == 200  # no quote in the site's currency
    assert client.post(url, {**data, "price_min": "-5", "price_max": "10"}).status_code == 200
    assert not TreatmentPlan.objects.exists()
    response = client.post(url, {**data, "price_min": "100", "price_max": "200"})
    assert response.status_code == 302
    assert TreatmentPlan.objects.get().currency == site.currency


def test_follow_up_book_refuses_another_sites_clinician_and_a_past_time(
    client, staff, visits, other_site
):
    visit = visits.filter(kind=ScheduledVisit.Kind.FOLLOW_UP).first()
    far = staff_at(other_site)
    url = reverse("treatment:follow_up_book", args=[visit.pk])
    client.force_login(staff[Role.COORDINATOR])
    start = selectors.suggested_start(visit=visit, today=clock.localdate())
    for starts_at, clinician in (
        (start, far[Role.PHYSICIAN].pk),
        ("2020-01-01T10:00", staff[Role.PHYSICIAN].pk),
    ):
        response = client.post(
            url,
            {
                "starts_at": f"{starts_at:%Y-%m-%dT%H:%M}" if starts_at is start else starts_at,
                "clinician": clinician,
            },
        )
        assert response.status_code == 200
    assert not Appointment.objects.filter(patient=visit.patient, kind="follow_up").exists()
