"""Treatment pages: why treatment is refused, said once and up front."""

from __future__ import annotations

import pytest
from django.urls import reverse

from anagen.clinic.treatment.defaults import ensure_defaults
from anagen.clinic.treatment.models import (
    TreatmentPlan,
)
from tests.clinic.treatment_helpers import (
    assess,
    consented_plan,
    released_product,
)

pytestmark = pytest.mark.django_db


def test_the_pages_say_up_front_why_treatment_is_refused(client, team, patient):
    physician, nurse, lab = team
    client.force_login(physician)
    page = client.get(reverse("treatment:plan_new", args=[patient.pk])).content.decode()
    assert "no eligibility decision yet" in page
    plan = consented_plan(physician, nurse, patient)
    released_product(physician, lab, plan)
    assess(physician, patient, norwood="VI")  # now: refer for transplant
    for name in ("treatment:harvest_new", "treatment:session_new"):
        page = client.get(reverse(name, args=[plan.pk])).content.decode()
        assert "Refer for hair transplant" in page, name


def test_a_refusal_is_shown_once(client, team, patient):
    physician, _, _ = team
    protocol, _ = ensure_defaults()
    client.force_login(physician)
    url = reverse("treatment:plan_new", args=[patient.pk])
    body = client.post(url, {"protocol": protocol.pk, "target_zones": ["vertex"]}).content.decode()
    assert body.count("no eligibility decision yet") == 1
    assert not TreatmentPlan.objects.exists()


def test_a_protocol_id_that_is_not_a_number_falls_back_to_the_first(client, team, patient):
    physician, _, _ = team
    ensure_defaults()
    client.force_login(physician)
    response = client.get(reverse("treatment:plan_new", args=[patient.pk]), {"protocol": "abc"})
    assert response.status_code == 200
