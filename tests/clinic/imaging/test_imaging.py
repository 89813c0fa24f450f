from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.imaging import services
from anagen.clinic.imaging.models import Device, TrichoscopyImage
from anagen.clinic.imaging.selectors import outcome_series
from tests.clinic.imaging_helpers import bomb_png, imaging_world, phantom_png, plain_png, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(staff, patient):
    return imaging_world(staff[Role.NURSE], patient)


def test_upload_queues_analysis_and_stores_result(
    client, staff, world, django_capture_on_commit_callbacks
):
    nurse = staff[Role.NURSE]
    client.force_login(nurse)
    url = reverse("imaging:visit", args=[world["visit"].pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {
                "tricho-target_site": world["site"].pk,
                "tricho-device": world["device"].pk,
                "tricho-image": upload("site.png", phantom_png(7)),
            },
        )
    assert response.status_code == 302
    record = TrichoscopyImage.objects.latest("pk")
    assert record.status == "analysed" and record.hair_count > 0
    assert record.overlay.name.endswith(".png")
    assert record.algorithm_version and record.result["hairs"]
    page = client.get(reverse("imaging:trichoscopy", args=[record.pk])).content.decode()
    assert "Quality flags" in page and f"{record.density_per_cm2:.1f}" in page


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"not an image at all", "not a readable image"),
        (plain_png()[:60], "damaged or truncated"),
        (bomb_png(), "megapixel limit"),
    ],
    ids=["not-an-image", "truncated", "bomb"],
)
def test_bad_trichoscopy_upload_is_refused_and_loses_nothing(
    client, staff, world, payload, message
):
    client.force_login(staff[Role.NURSE])
    before = TrichoscopyImage.objects.count()
    response = client.post(
        reverse("imaging:visit", args=[world["visit"].pk]),
        {
            "tricho-target_site": world["site"].pk,
            "tricho-device": world["device"].pk,
            "tricho-image": upload("bad.png", payload),
        },
    )
    assert response.status_code == 200 and message in response.content.decode()
    assert TrichoscopyImage.objects.count() == before
    assert (
        world["trichoscopy"].__class__.objects.get(pk=world["trichoscopy"].pk).status == "analysed"
    )


def test_missing_calibration_is_refused(staff, world):
    uncalibrated = Device.objects.create(name="New scope", um_per_px=None)
    with pytest.raises(Exception, match="no calibration"):
        services.trichoscopy_upload(
            actor=staff[Role.NURSE],
            visit=world["visit"],
            target_site=world["site"],
            device=uncalibrated,
            image=upload("x.png", phantom_png(2)),
        )


def test_a_broken_file_fails_alone_in_a_batch_reanalysis(staff, world, capsys):
    good = world["trichoscopy"]
    broken = services.trichoscopy_upload(
        actor=staff[Role.NURSE],
        visit=world["visit"],
        target_site=world["site"],
        device=world["device"],
        image=upload("b.png", phantom_png(3)),
    )
    with open(broken.image.path, "r+b") as handle:  # the file is damaged on disk after upload
        handle.truncate(100)
    TrichoscopyImage.objects.filter(pk=good.pk).update(algorithm_version="old")
    with pytest.raises(CommandError, match=f"ids {broken.pk} "):  # exit status 1
        call_command("reanalyse_trichoscopy")
    good.refresh_from_db()
    broken.refresh_from_db()
    assert good.status == "analysed" and good.algorithm_version != "old"
    assert broken.status == "failed" and "truncated" in broken.error
    assert "1 analysed" in capsys.readouterr().out


def test_correction_keeps_automatic_values(client, staff, world):
    record = world["trichoscopy"]
    counted = [h["id"] for h in record.result["hairs"] if h["counted"]]
    client.force_login(staff[Role.PHYSICIAN])
    url = reverse("imaging:trichoscopy", args=[record.pk])
    bad = client.post(
        url, {"removed_hair_ids": "99999", "added_terminal": 0, "added_vellus": 0, "note": "x"}
    )
    assert "No counted hair has id 99999" in bad.content.decode()
    response = client.post(
        url,
        {
            "removed_hair_ids": str(counted[0]),
            "added_terminal": 3,
            "added_vellus": 1,
            "note": "Removed a pore, added 4 missed",
        },
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.hair_count == len(counted)  # automatic value unchanged
    assert record.corrected_counts()["hair_count"] == len(counted) - 1 + 4
    assert record.corrected_by == staff[Role.PHYSICIAN]
    series = outcome_series(target_site=world["site"])
    assert series[0].corrected and series[0].density_per_cm2 == pytest.approx(
        record.corrected_counts()["density_per_cm2"]
    )


def test_future_imaging_date_is_refused(staff, patient):
    with pytest.raises(Exception, match="future"):
        services.imaging_visit_create(
            actor=staff[Role.NURSE], patient=patient, taken_on=date.today() + timedelta(days=3)
        )
