"""A corrected count is shown as corrected, with the engine's automatic count beside it, on the
visit page and the progress page (never the automatic value labelled as corrected)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.imaging import services
from anagen.clinic.registry.services import outcomes_refresh
from tests.clinic.imaging_helpers import imaging_world

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_corrected_and_automatic_side_by_side(client, staff, patient):
    nurse = staff[Role.NURSE]
    record = imaging_world(nurse, patient)["trichoscopy"]
    hairs = [h["id"] for h in record.result["hairs"] if h["counted"]][:3]
    services.trichoscopy_correct(
        actor=nurse,
        record=record,
        removed_hair_ids=hairs,
        added_terminal=0,
        added_vellus=0,
        note="three hairs were scalp marks",
    )
    record.refresh_from_db()
    corrected = record.corrected_counts()
    assert corrected["hair_count"] == record.hair_count - 3
    client.force_login(nurse)
    visit = _text(client.get(reverse("imaging:visit", args=[record.visit_id])).content.decode())
    assert (
        f"{corrected['density_per_cm2']:.0f} corrected automatic {record.density_per_cm2:.0f}"
        in visit
    )
    assert (
        f"{corrected['terminal_count']} / {corrected['vellus_count']} corrected "
        f"automatic {record.terminal_count} / {record.vellus_count}"
    ) in visit
    outcomes_refresh(patient=patient)
    progress = _text(client.get(reverse("progress:patient", args=[patient.pk])).content.decode())
    assert f"automatic {record.density_per_cm2:.1f}" in progress
