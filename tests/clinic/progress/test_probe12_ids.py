"""Probe: ids in query strings and forms that str.isdigit() accepts but int() refuses."""

from __future__ import annotations

import pytest
from django.urls import reverse

from anagen.clinic.accounts.roles import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["²", "9" * 5000, "9" * 30])
def test_compare_visit_and_review_pairs_patient(client, staff, patient, value):
    client.force_login(staff[Role.PHYSICIAN])
    compare = client.get(reverse("progress:compare", args=[patient.pk]), {"visit": value})
    assert compare.status_code in (200, 404)
    pairs = client.post(reverse("review:pairs_create"), {"patient": value})
    assert pairs.status_code in (302, 404)
    back = client.post(reverse("review:pairs_create"), {"patient": patient.pk, "visit": value})
    assert back.status_code in (302, 404)
