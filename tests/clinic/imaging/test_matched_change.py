"""Matched follow-up in the clinic: the job after a follow-up's analysis, the stored pair, the
registry's change from baseline preferring it, and a pair that cannot be matched."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from PIL import Image

from anagen.clinic.accounts.roles import Role
from anagen.clinic.imaging import services as imaging
from anagen.clinic.imaging.models import Device, MatchedChange
from anagen.clinic.registry import analysis
from anagen.clinic.registry import services as registry
from anagen.clinic.registry.models import OutcomeRecord
from anagen.phantoms import FollowUpChange, PhantomSpec, render_followup
from anagen.trichometry.change import count_change_at_least
from tests.clinic.imaging_helpers import UM_PER_PX, phantom_png, upload

pytestmark = pytest.mark.django_db

DAY0 = date.today() - timedelta(days=200)
SPEC = PhantomSpec(width=640, height=480, um_per_px=UM_PER_PX, density_per_cm2=220, seed=17)


def _png(array) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def pictures():
    first = render_followup(SPEC, FollowUpChange(max_shift_px=25, max_rotation_deg=2))
    second = render_followup(
        SPEC, FollowUpChange(lost_fraction=0.2, max_shift_px=25, max_rotation_deg=2)
    )
    return _png(first.baseline), _png(first.followup), _png(second.followup)


@pytest.fixture
def nurse(staff):
    return staff[Role.NURSE]


@pytest.fixture
def target(nurse, patient):
    return imaging.target_site_create(
        actor=nurse, patient=patient, zone="vertex", description="Vertex, tattoo dot"
    )


@pytest.fixture
def device():
    return Device.objects.create(name="Dermatoscope", magnification="20×", um_per_px=UM_PER_PX)


def _image(nurse, patient, target, device, days, data, name):
    visit = imaging.imaging_visit_create(
        actor=nurse, patient=patient, taken_on=DAY0 + timedelta(days=days)
    )
    record = imaging.trichoscopy_upload(
        actor=nurse, visit=visit, target_site=target, device=device, image=upload(name, data)
    )
    return imaging.trichoscopy_analyse(record=record)


def test_follow_up_is_matched_to_baseline_and_previous_by_the_job(
    nurse, patient, target, device, pictures, django_capture_on_commit_callbacks
):
    base = _image(nurse, patient, target, device, 0, pictures[0], "b.png")
    assert not MatchedChange.objects.exists()  # nothing earlier to match a baseline to
    with django_capture_on_commit_callbacks(execute=True):
        month3 = _image(nurse, patient, target, device, 90, pictures[1], "m3.png")
    (to_base,) = MatchedChange.objects.filter(followup=month3)
    assert to_base.reference == base and to_base.reference_kind == "baseline"
    assert to_base.status == MatchedChange.Status.MATCHED, to_base.error
    assert to_base.count_change == to_base.new - to_base.lost
    assert to_base.persisting > 0 and to_base.residual_px is not None
    assert to_base.overlay and to_base.overlay.size > 0
    assert to_base.algorithm_version.startswith("anagen-trichometry/")
    month6 = _image(nurse, patient, target, device, 180, pictures[2], "m6.png")
    matches = {m.reference_kind: m for m in imaging.trichoscopy_match(record=month6)}
    assert matches["baseline"].reference == base
    assert matches["previous"].reference == month3
    assert all(m.status == MatchedChange.Status.MATCHED for m in matches.values())
    # running again replaces, never duplicates
    imaging.trichoscopy_match(record=month6)
    assert MatchedChange.objects.filter(followup=month6).count() == 2


def test_registry_change_prefers_the_matched_change(nurse, patient, target, device, pictures):
    base = _image(nurse, patient, target, device, 0, pictures[0], "b.png")
    follow = _image(nurse, patient, target, device, 90, pictures[1], "m3.png")
    (pair,) = imaging.trichoscopy_match(record=follow)
    registry.outcomes_refresh(patient=patient)
    rows = {r.image_id: r for r in OutcomeRecord.objects.filter(patient=patient)}
    row = rows[follow.pk]
    assert row.matched_change_per_cm2 == pytest.approx(pair.density_change_per_cm2)
    assert (row.matched_lost, row.matched_new) == (pair.lost, pair.new)
    assert row.matched_terminal_change_per_cm2 is not None
    assert row.matched_terminal_change_per_cm2 == pytest.approx(
        count_change_at_least(pair.result["hairs"], 30.0) / pair.common_area_cm2
    )
    assert rows[base.pk].matched_change_per_cm2 is None
    # the independent densities stay on record
    assert row.density_per_cm2 == pytest.approx(follow.density_per_cm2, rel=0.2)
    measure = analysis.MEASURES["density_per_cm2"]
    assert "matched_change_per_cm2" in analysis.frame_columns(measure)
    terminal = analysis.MEASURES["terminal_density_per_cm2"]
    assert "matched_terminal_change_per_cm2" in analysis.frame_columns(terminal)
    frame = OutcomeRecord.objects.filter(patient=patient).values(
        "patient_id",
        "visit_day",
        "window_day",
        "target_site_id",
        "density_per_cm2",
        "matched_change_per_cm2",
    )
    import pandas as pd

    frame = pd.DataFrame.from_records(list(frame))
    frame["patient_id"] = frame["patient_id"].astype(str)
    lines = analysis.spaghetti(frame, measure)
    change = float(lines.loc[lines["visit_day"] == 90, "change"].iloc[0])
    assert change == pytest.approx(pair.density_change_per_cm2)
    independent = row.density_per_cm2 - rows[base.pk].density_per_cm2
    assert change != pytest.approx(independent) or pair.density_change_per_cm2 == independent
    # without the matched column the change is the difference of the two counts
    plain = analysis.spaghetti(frame.drop(columns=["matched_change_per_cm2"]), measure)
    assert float(plain.loc[plain["visit_day"] == 90, "change"].iloc[0]) == pytest.approx(
        independent
    )


def test_unmatched_pair_is_kept_with_its_reason_and_counts_stand(
    nurse, patient, target, device, pictures
):
    _image(nurse, patient, target, device, 0, pictures[0], "b.png")
    other = _image(
        nurse, patient, target, device, 90, phantom_png(3, 640, 480, density_per_cm2=15), "o.png"
    )
    (failed,) = imaging.trichoscopy_match(record=other)
    assert failed.status == MatchedChange.Status.FAILED
    assert "could not be lined up" in failed.error or "too little" in failed.error
    assert "Error" not in failed.error and ".png" not in failed.error
    assert failed.count_change is None and not failed.overlay
    other.refresh_from_db()
    assert other.hair_count is not None  # the image's own count stands
    registry.outcomes_refresh(patient=patient)
    assert OutcomeRecord.objects.get(image=other).matched_change_per_cm2 is None


def test_visit_page_shows_the_matched_overlay_beside_the_baseline(
    client, nurse, patient, target, device, pictures
):
    base = _image(nurse, patient, target, device, 0, pictures[0], "b.png")
    follow = _image(nurse, patient, target, device, 90, pictures[1], "m3.png")
    (pair,) = imaging.trichoscopy_match(record=follow)
    client.force_login(nurse)
    page = client.get(reverse("imaging:visit", args=[follow.visit_id])).content.decode()
    assert "Same hairs, matched between visits" in page
    assert f"{pair.lost}</td><td>{pair.new}</td>" in page
    assert reverse("imaging:trichoscopy_file", args=[base.pk, "image"]) in page
    overlay_url = reverse("imaging:trichoscopy_file", args=[follow.pk, "matched-baseline"])
    assert overlay_url in page
    response = client.get(overlay_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert (
        client.get(
            reverse("imaging:trichoscopy_file", args=[follow.pk, "matched-previous"])
        ).status_code
        == 404
    )
    # the baseline visit's page has no comparison of its own
    page = client.get(reverse("imaging:visit", args=[base.visit_id])).content.decode()
    assert "Same hairs, matched between visits" not in page
