"""The lab's home and the printable worklist: what each section lists (never another site's
products), the four-eyes hint, the expiry highlight, where a technician starts, who may look."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from anagen.clinic.accounts.policy import home_page
from anagen.clinic.accounts.roles import Role
from anagen.clinic.intake.models import Appointment
from anagen.clinic.treatment import selectors, services
from anagen.clinic.treatment.models import CellProduct
from tests.clinic.conftest import PASSWORD
from tests.clinic.factories import AppointmentFactory, PatientFactory, staff_at
from tests.clinic.treatment_helpers import (
    consented_plan,
    harvest,
    make_candidate,
    released_product,
    second_lab_technician,
)

S = CellProduct.Status


def _plan(physician, nurse, site, name):
    patient = PatientFactory(site=site, family_name=name)
    make_candidate(physician, patient)
    return consented_plan(physician, nurse, patient)


def _in_quarantine(physician, lab, plan, **results):
    product = harvest(physician, plan).products.get()
    fields = {
        "processing_ended_at": timezone.now() - timedelta(minutes=30),
        "total_nucleated_cells": 10_000_000,
        "viable_fraction": Decimal("0.85"),
        "volume_ml": Decimal("4"),
        "qc_sterility": "pass",
        "qc_endotoxin": "pass",
        **results,
    }
    return services.product_record_results(actor=lab, product=product, **fields)


@pytest.fixture
def lab_world(team, site, other_site):
    """At the lab's site: a product in processing (expiring within 24 h), one in quarantine with
    results by ``lab``, one in quarantine with sterility pending, one thawed, one stored for a
    patient with a session today. At another site: a product in processing."""
    physician, nurse, lab = team
    processing = harvest(physician, _plan(physician, nurse, site, "Ash")).products.get()
    services.product_record_results(
        actor=lab, product=processing, expires_at=timezone.now() + timedelta(hours=10)
    )
    ready = _in_quarantine(physician, lab, _plan(physician, nurse, site, "Birch"))
    pending = _in_quarantine(
        physician, lab, _plan(physician, nurse, site, "Cedar"), qc_sterility="pending"
    )
    thawed = released_product(physician, lab, _plan(physician, nurse, site, "Dogwood"))
    services.product_store(
        actor=lab,
        product=thawed,
        freezer="LN2",
        rack="A",
        box="1",
        position="1",
        expires_at=timezone.now() + timedelta(days=90),
    )
    services.product_thaw(actor=lab, product=thawed, use_within_hours=3)
    stored = released_product(physician, lab, _plan(physician, nurse, site, "Elm"))
    services.product_store(
        actor=lab,
        product=stored,
        freezer="LN2",
        rack="A",
        box="1",
        position="2",
        expires_at=timezone.now() + timedelta(days=90),
    )
    session = AppointmentFactory(
        patient=stored.patient,
        kind=Appointment.Kind.REPEAT_SESSION,
        starts_at=timezone.localtime().replace(hour=23, minute=0, second=0, microsecond=0),
    )
    there = staff_at(other_site)
    elsewhere = harvest(
        there[Role.PHYSICIAN],
        _plan(there[Role.PHYSICIAN], there[Role.NURSE], other_site, "Fir"),
    ).products.get()
    return {
        "lab": lab,
        "processing": processing,
        "ready": ready,
        "pending": pending,
        "thawed": thawed,
        "stored": stored,
        "session": session,
        "elsewhere": elsewhere,
    }


def pks(lines):
    return [line.product.pk for line in lines]


def test_each_section_lists_its_products_of_the_users_sites_only(lab_world):
    w = lab_world
    work = selectors.lab_work(user=w["lab"])
    assert pks(work.results_to_enter) == [w["processing"].pk, w["pending"].pk]
    assert [r.line.product.pk for r in work.awaiting_release] == sorted(
        [w["ready"].pk, w["pending"].pk],
        key=lambda pk: CellProduct.objects.get(pk=pk).expires_at,
    )
    assert pks(work.thawed) == [w["thawed"].pk]
    assert [t.line.product.pk for t in work.thaws_today] == [w["stored"].pk]
    assert work.thaws_today[0].appointment == w["session"]
    groups = {g.status: pks(g.lines) for g in work.by_status}
    assert groups[S.IN_PROCESSING] == [w["processing"].pk]
    assert groups[S.STORED] == [w["stored"].pk] and groups[S.THAWED] == [w["thawed"].pk]
    everything = {pk for g in work.by_status for pk in pks(g.lines)}
    assert w["elsewhere"].pk not in everything
    # Soonest expiry first in every group; within 24 h highlighted, not the rest.
    for group in work.by_status:
        expiries = [x.product.expires_at for x in group.lines]
        assert expiries == sorted(expiries)
    [processing] = [x for x in work.results_to_enter if x.product.pk == w["processing"].pk]
    assert processing.expires_soon and not processing.expired
    assert not work.by_status[-1].lines[0].expires_soon  # stored for 90 days


def test_releases_say_who_recorded_the_results_and_who_may_release(lab_world):
    w = lab_world
    lab = w["lab"]
    [mine] = [
        r
        for r in selectors.lab_work(user=lab).awaiting_release
        if r.line.product.pk == w["ready"].pk
    ]
    assert mine.recorded_by == [lab] and mine.four_eyes_refusal
    assert mine.four_eyes_refusal == selectors.four_eyes_refusal(actor=lab, product=w["ready"])
    second = second_lab_technician(lab)
    [theirs] = [
        r
        for r in selectors.lab_work(user=second).awaiting_release
        if r.line.product.pk == w["ready"].pk
    ]
    assert theirs.four_eyes_refusal is None and not theirs.gates_failed
    # What the page says is what the service does.
    services.product_release(actor=second, product=w["ready"], password=PASSWORD)


def test_the_home_page_shows_the_sections(client, lab_world):
    w = lab_world
    client.force_login(w["lab"])
    page = client.get(reverse("treatment:lab_home")).content.decode()
    for heading in (
        "Results to enter",
        "Releases awaiting a second person",
        "Thawed",
        "Products by status",
    ):
        assert heading in page
    assert "You recorded the results: another technician releases" in page
    assert "Within 24 h" in page and "use by" in page
    assert w["processing"].patient.mrn in page
    assert w["elsewhere"].patient.mrn not in page


def test_the_worklist_prints_todays_work_and_as_pdf(client, lab_world):
    w = lab_world
    client.force_login(w["lab"])
    page = client.get(reverse("treatment:lab_worklist")).content.decode()
    for heading in ("Products to process", "Results to enter", "Releases", "Thaws for today"):
        assert heading in page
    assert w["stored"].patient.mrn in page and "Repeat session" in page
    assert w["elsewhere"].patient.mrn not in page
    assert 'class="actions no-print"' in page  # the print stylesheet hides the buttons
    pdf = client.get(reverse("treatment:lab_worklist_pdf"))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_a_lab_technician_starts_at_the_lab_and_a_physician_at_the_day(client, staff):
    assert home_page(staff[Role.LAB_TECHNICIAN]) == "treatment:lab_home"
    for role in (Role.PHYSICIAN, Role.NURSE, Role.COORDINATOR, Role.AUDITOR, Role.ADMINISTRATOR):
        assert home_page(staff[role]) == "intake:home", role
    assert home_page(staff[Role.RESEARCHER]) == "registry:home"
    assert home_page(staff[Role.REVIEWER]) == "review:queue"
    lab = staff[Role.LAB_TECHNICIAN]
    response = client.post(reverse("account_login"), {"login": lab.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("treatment:lab_home")
    page = client.get(reverse("intake:home")).content.decode()
    assert f'class="brand" href="{reverse("treatment:lab_home")}"' in page


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.LAB_TECHNICIAN, 200),
        (Role.PHYSICIAN, 200),
        (Role.AUDITOR, 200),
        (Role.NURSE, 403),
        (Role.COORDINATOR, 403),
        (Role.RESEARCHER, 403),
    ],
)
def test_who_may_open_the_lab_pages(client, staff, role, status):
    client.force_login(staff[role])
    for name in ("treatment:lab_home", "treatment:lab_worklist"):
        assert client.get(reverse(name)).status_code == status, name
