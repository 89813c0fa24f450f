"""Click-to-correct: the correction service's rules for hairs removed by id and missed hairs
placed on the image, the form the viewer posts (and its no-JavaScript checkbox list), and the
viewer's data (its live counts start at the automatic ones)."""

from __future__ import annotations

import copy
import json
import re

import pytest
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.imaging import selectors, services
from anagen.clinic.imaging.error_codes import ImagingErrorCode as Code
from anagen.clinic.imaging.forms import CorrectionForm
from anagen.clinic.imaging.models import TrichoscopyImage
from tests.clinic.imaging_helpers import imaging_world
from tests.clinic.refusals import raises_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(staff, patient):
    return imaging_world(staff[Role.NURSE], patient)


def _ids(record, counted=True):
    return [h["id"] for h in record.result["hairs"] if h["counted"] is counted]


def _correct(nurse, record, **kwargs):
    arguments = {"removed_hair_ids": [], "added_hairs": [], "note": "checked by eye"}
    arguments.update(kwargs)
    return services.trichoscopy_correct(actor=nurse, record=record, **arguments)


def test_hostile_corrections_are_refused_and_nothing_is_saved(staff, world):
    nurse, record = staff[Role.NURSE], world["trichoscopy"]
    height, width = record.result["image_shape"]
    uncounted = _ids(record, counted=False)
    assert uncounted, "the phantom has hairs cut by the counting frame"
    inside = {"x": 10, "y": 10, "kind": "terminal"}
    cases = [
        ({"removed_hair_ids": [99999]}, Code.UNKNOWN_HAIR, "removed_hair_ids"),
        ({"removed_hair_ids": [-1]}, Code.UNKNOWN_HAIR, "removed_hair_ids"),
        ({"removed_hair_ids": [True]}, Code.UNKNOWN_HAIR, "removed_hair_ids"),
        ({"removed_hair_ids": ["1"]}, Code.UNKNOWN_HAIR, "removed_hair_ids"),
        ({"removed_hair_ids": "1,2"}, Code.UNKNOWN_HAIR, "removed_hair_ids"),
        ({"removed_hair_ids": list(range(100_000))}, Code.UNKNOWN_HAIR, "removed_hair_ids"),
        ({"removed_hair_ids": [uncounted[0]]}, Code.UNCOUNTED_HAIR, "removed_hair_ids"),
        ({"added_hairs": [{**inside, "x": width}]}, Code.ADDED_HAIR_POSITION, "added_hairs"),
        ({"added_hairs": [{**inside, "y": height + 5}]}, Code.ADDED_HAIR_POSITION, "added_hairs"),
        ({"added_hairs": [{**inside, "x": -0.5}]}, Code.ADDED_HAIR_POSITION, "added_hairs"),
        ({"added_hairs": [{**inside, "x": float("nan")}]}, Code.ADDED_HAIR_POSITION, "added_hairs"),
        ({"added_hairs": [{**inside, "x": float("inf")}]}, Code.ADDED_HAIR_POSITION, "added_hairs"),
        ({"added_hairs": [{**inside, "x": "10"}]}, Code.ADDED_HAIR_POSITION, "added_hairs"),
        ({"added_hairs": [{**inside, "x": True}]}, Code.ADDED_HAIR_POSITION, "added_hairs"),
        ({"added_hairs": [{"x": 10, "y": 10}]}, Code.ADDED_HAIR_POSITION, "added_hairs"),
        ({"added_hairs": [{**inside, "id": 3}]}, Code.ADDED_HAIR_POSITION, "added_hairs"),
        ({"added_hairs": [[10, 10, "terminal"]]}, Code.ADDED_HAIR_POSITION, "added_hairs"),
        ({"added_hairs": [{**inside, "kind": "hair"}]}, Code.ADDED_HAIR_KIND, "added_hairs"),
        ({"added_hairs": [{**inside, "kind": None}]}, Code.ADDED_HAIR_KIND, "added_hairs"),
        ({"added_hairs": {"x": 10, "y": 10}}, Code.ADDED_HAIRS, "added_hairs"),
        ({"added_hairs": [inside] * 2001}, Code.ADDED_HAIRS, "added_hairs"),
        ({"added_hairs": [inside] * 20, "added_terminal": 1990}, Code.ADDED_HAIRS, None),
        ({"added_vellus": -1}, Code.ADDED_HAIRS, "added_terminal"),
        ({"added_terminal": 2.5}, Code.ADDED_HAIRS, "added_terminal"),
        ({"note": "   "}, Code.NOTE_REQUIRED, "note"),
    ]
    automatic = copy.deepcopy(record.result)
    for payload, code, field in cases:
        with raises_code(code, field):
            _correct(nurse, record, **payload)
        record = TrichoscopyImage.objects.get(pk=record.pk)
        assert not record.is_corrected and record.history.count() == 2, payload
        assert record.added_hairs == [] and record.removed_hair_ids == [], payload
    assert record.result == automatic


def test_placed_hairs_are_kept_with_totals_who_and_when(staff, world):
    nurse, record = staff[Role.NURSE], world["trichoscopy"]
    automatic = copy.deepcopy(record.result)
    counts = (record.hair_count, record.terminal_count, record.vellus_count)
    first = _ids(record)[0]
    _correct(
        nurse,
        record,
        removed_hair_ids=[first, first],
        added_hairs=[
            {"x": 100.04, "y": 50, "kind": "terminal"},
            {"x": 0, "y": 359.9, "kind": "vellus"},
        ],
        added_terminal=2,
        note="  one scale, three missed  ",
    )
    record = TrichoscopyImage.objects.get(pk=record.pk)
    assert record.removed_hair_ids == [first]
    assert record.added_hairs == [
        {"x": 100.0, "y": 50.0, "kind": "terminal"},
        {"x": 0.0, "y": 359.9, "kind": "vellus"},
    ]
    assert (record.added_terminal, record.added_vellus) == (3, 1)  # totals: placed + unplaced
    assert record.unplaced_added() == {"terminal": 2, "vellus": 0}
    assert record.correction_note == "one scale, three missed"
    assert record.corrected_by == nurse and record.corrected_at is not None
    # the automatic result is never changed
    assert record.result == automatic
    assert (record.hair_count, record.terminal_count, record.vellus_count) == counts
    kind = {h["id"]: k for h, k in record.counted_hairs()}[first]
    corrected = record.corrected_counts()
    assert corrected["hair_count"] == counts[0] - 1 + 4
    assert corrected["terminal_count"] == counts[1] - (kind == "terminal") + 3
    assert corrected["vellus_count"] == counts[2] - (kind == "vellus") + 1
    # history keeps the version before and after
    latest, before = record.history.all()[:2]
    assert latest.added_hairs == record.added_hairs and before.added_hairs == []
    # a new correction replaces the placed hairs
    _correct(nurse, record, added_hairs=[], note="undone")
    record.refresh_from_db()
    assert record.added_hairs == [] and record.added_terminal == 0 and record.removed_hair_ids == []
    assert record.corrected_counts()["hair_count"] == counts[0]


def test_a_correction_saved_before_positions_stays_valid(staff, world):
    record = world["trichoscopy"]
    TrichoscopyImage.objects.filter(pk=record.pk).update(
        added_terminal=3, added_vellus=1, corrected_at=record.analysed_at
    )
    record.refresh_from_db()
    assert record.added_hairs == []
    assert record.unplaced_added() == {"terminal": 3, "vellus": 1}
    assert record.corrected_counts()["hair_count"] == record.hair_count + 4
    initial = CorrectionForm.initial_for(record)
    assert (initial["added_terminal"], initial["added_vellus"]) == (3, 1)


def test_viewer_data_starts_at_the_automatic_counts(world):
    record = world["trichoscopy"]
    viewer = selectors.correction_viewer(record)
    assert (viewer["height"], viewer["width"]) == tuple(record.result["image_shape"])
    kinds = [h["kind"] for h in viewer["hairs"]]
    assert len(kinds) == record.hair_count == viewer["automatic"]["total"]
    assert kinds.count("terminal") == record.terminal_count
    assert kinds.count("vellus") == record.vellus_count
    for hair in viewer["hairs"]:  # markers lie on the image, on the hair's own centreline box
        xs = [p[0] for p in hair["points"]]
        ys = [p[1] for p in hair["points"]]
        assert 0 <= hair["x"] <= viewer["width"] and 0 <= hair["y"] <= viewer["height"]
        assert min(xs) - 1 <= hair["x"] <= max(xs) + 1 and min(ys) - 1 <= hair["y"] <= max(ys) + 1
    record.status = TrichoscopyImage.Status.QUEUED
    assert selectors.correction_viewer(record) is None


def test_the_page_lists_hairs_as_checkboxes_and_posts_the_viewer_form(client, staff, world):
    nurse, record = staff[Role.NURSE], world["trichoscopy"]
    client.force_login(nurse)
    url = reverse("imaging:trichoscopy", args=[record.pk])
    html = client.get(url).content.decode()
    counted = _ids(record)
    for hair_id in counted:  # without JavaScript: one box per counted hair, no ids to type
        assert f'name="removed_hair_ids" value="{hair_id}"' in html
    assert 'id="correction-data" type="application/json"' in html
    assert "anagen/correction.js" in html and "onclick" not in html
    # a broken list of placed hairs is a form error; nothing saved
    bad = client.post(
        url, {"added_hairs": "[{", "added_terminal": 0, "added_vellus": 0, "note": "x"}
    )
    assert bad.status_code == 200 and "could not be read" in bad.content.decode()
    outside = client.post(
        url,
        {
            "added_hairs": json.dumps([{"x": 5000, "y": 1, "kind": "terminal"}]),
            "added_terminal": 0,
            "added_vellus": 0,
            "note": "x",
        },
    )
    assert outside.status_code == 200 and "is not inside the" in outside.content.decode()
    record.refresh_from_db()
    assert not record.is_corrected
    response = client.post(
        url,
        {
            "removed_hair_ids": [str(counted[0]), str(counted[1])],
            "added_hairs": json.dumps([{"x": 120.5, "y": 80.25, "kind": "vellus"}]),
            "added_terminal": 1,
            "added_vellus": 0,
            "note": "two marks removed, two missed hairs",
        },
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.removed_hair_ids == sorted(counted[:2])
    assert record.added_hairs == [{"x": 120.5, "y": 80.2, "kind": "vellus"}]
    assert (record.added_terminal, record.added_vellus) == (1, 1)
    assert record.corrected_counts()["hair_count"] == record.hair_count - 2 + 2
    # the page shows the saved correction back: boxes ticked, placed hairs, unplaced numbers
    html = client.get(url).content.decode()
    ticked = set(re.findall(r'name="removed_hair_ids" value="(\d+)"[^>]* checked', html))
    assert ticked == {str(i) for i in counted[:2]}
    form = client.get(url).context["form"]
    assert form.initial["added_terminal"] == 1 and form.initial["added_vellus"] == 0
    assert json.loads(form.initial["added_hairs"]) == record.added_hairs


def test_ids_sent_as_one_value_come_back_as_ticked_boxes(client, staff, world):
    """The viewer sends many ticked boxes as one comma-separated value (the field limit)."""
    record = world["trichoscopy"]
    counted = _ids(record)
    client.force_login(staff[Role.NURSE])
    url = reverse("imaging:trichoscopy", args=[record.pk])
    ids = ",".join(map(str, counted[:3]))
    refused = client.post(url, {"removed_hair_ids": ids, "added_terminal": 0, "added_vellus": 0})
    html = refused.content.decode()  # the note is missing: the form comes back, boxes ticked
    ticked = set(re.findall(r'name="removed_hair_ids" value="(\d+)"[^>]* checked', html))
    assert ticked == {str(i) for i in counted[:3]}
    form = CorrectionForm({"removed_hair_ids": ["a,1"], "added_terminal": 0, "added_vellus": 0})
    assert not form.is_valid() and "removed_hair_ids" in form.errors
