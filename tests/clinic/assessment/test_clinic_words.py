"""The assessment speaks clinic words: lab and BASP errors name the test and say what to do,
and rule ids appear only in a physician's expandable "which rule"."""

from __future__ import annotations

import pytest
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.assessment.models import Assessment
from tests.clinic.assessment.test_assessment import form_data
from tests.clinic.treatment_helpers import assess

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("ferritin", "-3", "Ferritin cannot be negative."),
        ("ferritin", "250000", "is outside what is physiologically possible for Ferritin"),
        ("basp", "F2", "“F2” is not a BASP type."),
    ],
)
def test_errors_in_clinic_words(client, physician, patient, field, value, words):
    client.force_login(physician)
    page = client.post(
        reverse("assessment:new", args=[patient.pk]), form_data(**{field: value})
    ).content.decode()
    assert words in page
    assert "labs:" not in page and "basp:" not in page and f"{field}:" not in page
    assert page.count(words) == 1  # one error, once
    assert not Assessment.objects.exists()


def test_rule_ids_only_for_physicians_in_a_details(client, staff, patient):
    assessment = assess(staff[Role.PHYSICIAN], patient, ferritin=10)
    url = reverse("assessment:detail", args=[assessment.pk])
    rule = assessment.decision.reasons[0]["rule_id"]
    client.force_login(staff[Role.PHYSICIAN])
    page = client.get(url).content.decode()
    assert "<summary>Which rule</summary>" in page and rule in page
    client.force_login(staff[Role.NURSE])
    page = client.get(url).content.decode()
    assert rule not in page and "→" not in page


def test_review_before_saving_stores_nothing_and_says_it_in_words(client, physician, patient):
    client.force_login(physician)
    url = reverse("assessment:new", args=[patient.pk])
    data = form_data(tsh="1.9", trichoscopy_findings=["miniaturization"], step="review")
    page = client.post(url, data).content.decode()
    assert "Eligibility on saving:" in page and "Nothing is saved yet" in page
    assert "1.9 mIU/L" in page and "Miniaturi" in page
    assert not Assessment.objects.exists()
    back = client.post(url, {**data, "step": "change"})
    assert back.context["form"]["tsh"].value() == "1.9"
    assert not Assessment.objects.exists()
    saved = client.post(url, {**data, "step": "save"})
    assert saved.status_code == 302 and Assessment.objects.count() == 1


def test_review_of_bad_input_shows_the_errors(client, physician, patient):
    client.force_login(physician)
    url = reverse("assessment:new", args=[patient.pk])
    page = client.post(url, form_data(ferritin="-3", step="review")).content.decode()
    assert "Ferritin cannot be negative." in page and "Eligibility on saving" not in page
    assert not Assessment.objects.exists()
