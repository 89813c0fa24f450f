"""Probe: click-to-correct with hostile JSON, another site's record and a role without capture."""

from __future__ import annotations

import pytest
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.imaging.models import TrichoscopyImage
from tests.clinic.factories import staff_at
from tests.clinic.imaging_helpers import imaging_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(staff, patient):
    return imaging_world(staff[Role.NURSE], patient)


def _post(client, record, added):
    return client.post(
        reverse("imaging:trichoscopy", args=[record.pk]),
        {"added_hairs": added, "added_terminal": 0, "added_vellus": 0, "note": "probe"},
    )


@pytest.mark.parametrize(
    "added",
    [
        "[" * 50_000 + "]" * 50_000,
        "[" * 3000 + "]" * 3000,
        '{"x": 1}',
        '"text"',
        "1e999",
        "5",
        '"x" ',
        '[{"x": 1e999, "y": 1, "kind": "terminal"}]',
        '[{"x": NaN, "y": 1, "kind": "terminal"}]',
        '[{"x": 1, "y": 1, "kind": ["terminal"]}]',
        '[{"x": 1, "y": 1, "kind": {"a": 1}}]',
        '[{"x": true, "y": 1, "kind": "terminal"}]',
        '[{"x": 1, "y": 1, "kind": "terminal", "extra": 1}]',
        "[" + ",".join(['{"x":1,"y":1,"kind":"terminal"}'] * 5000) + "]",
        '[{"x": 1, "y": 1, "kind": "terminal"}',
    ],
)
def test_hostile_added_hairs_are_refused_cleanly(client, staff, world, added):
    record = world["trichoscopy"]
    client.force_login(staff[Role.NURSE])
    response = _post(client, record, added)
    assert response.status_code in (200, 400)
    record.refresh_from_db()
    assert record.corrected_by is None


def test_another_sites_record_and_a_role_without_capture(client, staff, world, other_site):
    record = world["trichoscopy"]
    far = staff_at(other_site)
    client.force_login(far[Role.NURSE])
    assert _post(client, record, "[]").status_code == 404
    for role in (Role.COORDINATOR, Role.LAB_TECHNICIAN, Role.AUDITOR):
        client.force_login(staff[role])
        assert _post(client, record, "[]").status_code in (403, 404)
    record.refresh_from_db()
    assert record.corrected_by is None
    assert TrichoscopyImage.objects.filter(corrected_by__isnull=False).count() == 0
