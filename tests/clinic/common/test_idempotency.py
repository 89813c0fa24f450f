"""Back + resubmit, a double click or a retried post saves once (``common.forms.submit_once``).

Every create form carries a one-time ``form_token``; a second post with the same token is sent
to the first result with "This was already saved" and writes nothing.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from anagen.clinic.accounts.roles import Role
from anagen.clinic.common.models import SubmittedForm
from anagen.clinic.intake.models import InquiryNote
from anagen.clinic.intake.services import inquiry_submit
from anagen.clinic.patients.models import Patient
from anagen.clinic.treatment import services
from anagen.clinic.treatment.defaults import ensure_defaults
from anagen.clinic.treatment.models import AdverseEvent, Consent, TreatmentPlan
from tests.clinic.conftest import make_user
from tests.clinic.treatment_helpers import consented_plan, make_candidate

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="form_token" value="([0-9a-f-]{36})"')


def token_of(page) -> str:
    """The token of the first form on a rendered page (as the browser would send it back)."""
    assert page.status_code == 200
    found = TOKEN.findall(page.content.decode())
    assert found, "the form has no form_token"
    assert len(set(found)) == len(found), "every form gets its own token"
    return found[0]


def post_twice(client, url, data):
    first = client.post(url, data)
    again = client.post(url, data)
    return first, again


def assert_replay_went_to_first(first, again, client=None):
    assert first.status_code == 302, getattr(first, "content", b"")[:2000]
    assert again.status_code == 302
    assert again["Location"] == first["Location"]
    assert "This was already saved" in [str(m) for m in get_messages(again.wsgi_request)][-1]


def patient_form(site):
    return {
        "site": site.pk,
        "given_name": "Iona",
        "family_name": "Juniper",
        "date_of_birth": "1990-05-06",
        "sex": "female",
        "phone": "+44 7700 900111",
    }


def test_new_patient_posted_twice_creates_one(client, coordinator, site):
    client.force_login(coordinator)
    url = reverse("patients:create")
    data = {**patient_form(site), "form_token": token_of(client.get(url))}
    first, again = post_twice(client, url, data)
    assert_replay_went_to_first(first, again)
    patient = Patient.objects.get()
    assert first["Location"] == reverse("patients:chart", args=[patient.pk])
    assert SubmittedForm.objects.get().result_url == first["Location"]


def test_call_back_note_posted_twice_is_saved_once(client, coordinator, site):
    inquiry = inquiry_submit(full_name="Esme Dunmore", phone="+44 7700 900333", preferred_site=site)
    client.force_login(coordinator)
    url = reverse("intake:inquiry", args=[inquiry.pk])
    data = {"text": "Called, will ring back", "status": "", "form_token": token_of(client.get(url))}
    first, again = post_twice(client, url, data)
    assert_replay_went_to_first(first, again)
    assert InquiryNote.objects.count() == 1


@pytest.fixture
def team(staff):
    return staff[Role.PHYSICIAN], staff[Role.NURSE]


def test_plan_posted_twice_creates_one(client, team, patient):
    physician, _ = team
    protocol, _ = ensure_defaults()
    make_candidate(physician, patient)
    client.force_login(physician)
    url = reverse("treatment:plan_new", args=[patient.pk])
    data = {
        "protocol": protocol.pk,
        "method": "svf_mechanical",
        "target_zones": ["vertex"],
        "adjuncts": [],
        "planned_sessions": "2",
        "interval_weeks": "10",
        "planned_dose_cells": "4000000",
        "price_min": "1800",
        "price_max": "2200",
        "form_token": token_of(client.get(url)),
    }
    first, again = post_twice(client, url, data)
    assert_replay_went_to_first(first, again)
    assert first["Location"] == reverse("treatment:plan", args=[TreatmentPlan.objects.get().pk])


def test_consent_signed_twice_is_recorded_once(client, team, patient):
    physician, nurse = team
    protocol, text = ensure_defaults()
    make_candidate(physician, patient)
    plan = services.plan_create(actor=physician, patient=patient, protocol=protocol)
    client.force_login(nurse)
    url = reverse("treatment:consent_sign", args=[plan.pk])
    data = {
        "consent_text": text.pk,
        "signer_name": patient.full_name,
        "agrees": "on",
        "form_token": token_of(client.get(url)),
    }
    first, again = post_twice(client, url, data)
    assert_replay_went_to_first(first, again)
    assert Consent.objects.count() == 1


def test_consent_withdrawal_posted_twice_is_applied_once(client, team, patient):
    physician, nurse = team
    plan = consented_plan(physician, nurse, patient)
    consent = plan.consents.get()
    client.force_login(nurse)
    url = reverse("treatment:consent_withdraw", args=[consent.pk])
    data = {"reason": "Changed her mind", "form_token": token_of(client.get(url))}
    first, again = post_twice(client, url, data)
    assert_replay_went_to_first(first, again)
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None


def test_adverse_event_posted_twice_is_reported_once(client, team, patient):
    physician, nurse = team
    plan = consented_plan(physician, nurse, patient)
    client.force_login(nurse)
    url = reverse("treatment:adverse_event_new", args=[patient.pk]) + f"?plan={plan.pk}"
    data = {
        "plan": plan.pk,
        "type": "bruising",
        "description": "Bruise at the umbilicus",
        "site": "harvest",
        "grade": "1",
        "onset_on": timezone.localdate().isoformat(),
        "relatedness": "definite",
        "action_taken": "Reassured",
        "form_token": token_of(client.get(url)),
    }
    first, again = post_twice(client, url, data)
    assert_replay_went_to_first(first, again)
    assert AdverseEvent.objects.count() == 1


def test_public_request_posted_twice_is_one_inquiry(client, site):
    from django.core.cache import cache

    from anagen.clinic.intake.models import Inquiry

    cache.clear()  # rate limits
    url = reverse("intake:request")
    data = {
        "full_name": "Milo Rookwood",
        "phone": "+44 7700 900222",
        "preferred_site": site.pk,
        "consent_to_contact": "on",
        "website": "",
        "form_token": token_of(client.get(url)),
    }
    first, again = post_twice(client, url, data)
    assert first.status_code == again.status_code == 302
    assert again["Location"] == first["Location"]
    assert Inquiry.objects.count() == 1


def test_a_refused_form_can_be_corrected_and_sent_with_its_token(client, coordinator, site):
    client.force_login(coordinator)
    url = reverse("patients:create")
    token = token_of(client.get(url))
    refused = client.post(url, {**patient_form(site), "sex": "dragon", "form_token": token})
    assert refused.status_code == 200 and not SubmittedForm.objects.exists()
    saved = client.post(url, {**patient_form(site), "form_token": token})
    assert saved.status_code == 302 and Patient.objects.count() == 1


def test_another_users_token_is_refused(client, coordinator, site):
    client.force_login(coordinator)
    url = reverse("patients:create")
    data = {**patient_form(site), "form_token": token_of(client.get(url))}
    assert client.post(url, data).status_code == 302
    client.force_login(make_user(Role.COORDINATOR, site, email="second@example.test"))
    assert client.post(url, data).status_code == 403
    assert Patient.objects.count() == 1


def test_malformed_token_is_a_bad_request(client, coordinator, site):
    client.force_login(coordinator)
    response = client.post(reverse("patients:create"), {**patient_form(site), "form_token": "x"})
    assert response.status_code == 400 and not Patient.objects.exists()


def test_each_rendering_gets_a_fresh_token(client, coordinator):
    client.force_login(coordinator)
    url = reverse("patients:create")
    assert token_of(client.get(url)) != token_of(client.get(url))
    assert uuid.UUID(token_of(client.get(url)))


#: Every page whose POST creates a record or applies a step once (session_new has its own
#: token checked by the service and is deliberately not listed).
GUARDED = [
    "patients:create",
    "intake:request",
    "intake:inquiry",
    "intake:convert",
    "intake:appointment_new",
    "assessment:new",
    "assessment:override",
    "treatment:plan_new",
    "treatment:consent_sign",
    "treatment:consent_withdraw",
    "treatment:harvest_new",
    "treatment:adverse_event_new",
    "treatment:product_results",
    "treatment:product_release",
    "treatment:product_store",
    "treatment:product_thaw",
    "treatment:product_split",
    "treatment:product_discard",
    "imaging:visit_new",
    "imaging:target_site_new",
    "imaging:visit",
    "imaging:trichoscopy",
]


@pytest.mark.parametrize("name", GUARDED)
def test_every_create_view_saves_once(name):
    from django.urls import get_resolver

    callbacks = {
        f"{ns}:{n}": pattern.callback
        for ns, (prefix, resolver) in get_resolver().namespace_dict.items()
        for n, pattern in ((p.name, p) for p in resolver.url_patterns if getattr(p, "name", None))
    }
    assert getattr(callbacks[name], "submits_once", False), f"{name} is not @submit_once"


def test_create_pages_carry_a_token(client, staff, patient, site):
    physician = staff[Role.PHYSICIAN]
    nurse = staff[Role.NURSE]
    plan = consented_plan(physician, nurse, patient)
    pages = {
        staff[Role.COORDINATOR]: [
            reverse("patients:create"),
            reverse("intake:appointment_new", args=[patient.pk]),
        ],
        physician: [
            reverse("assessment:new", args=[patient.pk]),
            reverse("treatment:plan_new", args=[patient.pk]),
            reverse("treatment:harvest_new", args=[plan.pk]),
        ],
        nurse: [
            reverse("treatment:adverse_event_new", args=[patient.pk]),
            reverse("imaging:visit_new", args=[patient.pk]),
            reverse("imaging:target_site_new", args=[patient.pk]),
        ],
    }
    for user, urls in pages.items():
        client.force_login(user)
        for url in urls:
            assert token_of(client.get(url)), url
