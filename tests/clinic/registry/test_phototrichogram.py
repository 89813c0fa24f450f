"""Phototrichogram in the clinic: a day-2/3 re-image of the day-0 image of the same target site.

The pair rules are the upload service's (same patient, same site, same device, 1–4 days apart,
one re-image per day-0 image), refused with codes; a good pair runs ``anagen_telogen`` in the
analysis job, keeps the anagen fraction on the re-image and gives it to the day-0 image's row
of the outcome table.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from PIL import Image

from anagen.clinic.accounts.roles import Role
from anagen.clinic.imaging import services as imaging
from anagen.clinic.imaging.error_codes import ImagingErrorCode as Code
from anagen.clinic.imaging.models import Device, TrichoscopyImage
from anagen.clinic.patients.services import patient_create
from anagen.clinic.registry import services as registry
from anagen.clinic.registry.models import OutcomeRecord
from anagen.phantoms.render import PhantomSpec, render_pair
from tests.clinic.imaging_helpers import UM_PER_PX, phantom_png, upload
from tests.clinic.refusals import raises_code

pytestmark = pytest.mark.django_db

DAY0 = date.today() - timedelta(days=30)


def _png(array) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def nurse(staff):
    return staff[Role.NURSE]


@pytest.fixture
def world(nurse, patient):
    device = Device.objects.create(name="Dermatoscope", magnification="20×", um_per_px=UM_PER_PX)
    site = imaging.target_site_create(
        actor=nurse, patient=patient, zone="vertex", description="Vertex, tattoo dot"
    )
    visit0 = imaging.imaging_visit_create(actor=nurse, patient=patient, taken_on=DAY0)
    day0 = imaging.trichoscopy_upload(
        actor=nurse,
        visit=visit0,
        target_site=site,
        device=device,
        image=upload("d0.png", phantom_png(5)),
    )
    return {"device": device, "site": site, "visit0": visit0, "day0": day0}


def _visit(nurse, patient, days: int):
    return imaging.imaging_visit_create(
        actor=nurse, patient=patient, taken_on=DAY0 + timedelta(days=days)
    )


def _reimage(nurse, visit, world, **overrides):
    fields = {
        "visit": visit,
        "target_site": world["site"],
        "device": world["device"],
        "image": upload("dn.png", phantom_png(6)),
        "regrowth_of": world["day0"],
    }
    fields.update(overrides)
    return imaging.trichoscopy_upload(actor=nurse, **fields)


def test_a_reimage_of_another_site_is_refused(nurse, patient, world):
    other = imaging.target_site_create(
        actor=nurse, patient=patient, zone="frontal", description="Frontal, 2 cm behind hairline"
    )
    with raises_code(Code.REGROWTH_OTHER_SITE, "target_site"):
        _reimage(nurse, _visit(nurse, patient, 2), world, target_site=other)
    assert not TrichoscopyImage.objects.filter(regrowth_of__isnull=False).exists()


def test_a_reimage_of_another_patients_image_is_refused(nurse, patient, world, site, coordinator):
    someone = patient_create(
        actor=coordinator,
        site=site,
        given_name="Bo",
        family_name="Reed",
        date_of_birth=date(1980, 1, 1),
        sex="male",
        phone="+44 20 7946 0001",
    )
    their_site = imaging.target_site_create(
        actor=nurse, patient=someone, zone="vertex", description="Vertex"
    )
    their_visit = _visit(nurse, someone, 2)
    with raises_code(Code.REGROWTH_OTHER_PATIENT, "regrowth_of"):
        # their own site and visit, but the day-0 image is Ada's
        _reimage(nurse, their_visit, world, target_site=their_site)


@pytest.mark.parametrize("days", [0, 5, 30])
def test_a_reimage_too_far_apart_is_refused(nurse, patient, world, days):
    visit = world["visit0"] if days == 0 else _visit(nurse, patient, days)
    with raises_code(Code.REGROWTH_INTERVAL, "regrowth_of"):
        _reimage(nurse, visit, world)


def test_a_reimage_before_its_day0_is_refused(nurse, patient, world):
    with raises_code(Code.REGROWTH_INTERVAL):
        _reimage(nurse, _visit(nurse, patient, -2), world)


def test_other_device_reimage_of_reimage_and_a_second_reimage_are_refused(nurse, patient, world):
    other = Device.objects.create(name="Other scope", magnification="20×", um_per_px=UM_PER_PX)
    visit = _visit(nurse, patient, 2)
    with raises_code(Code.REGROWTH_OTHER_DEVICE, "device"):
        _reimage(nurse, visit, world, device=other)
    first = _reimage(nurse, visit, world)
    with raises_code(Code.REGROWTH_TAKEN, "regrowth_of"):
        _reimage(nurse, _visit(nurse, patient, 3), world)
    with raises_code(Code.REGROWTH_OF_REGROWTH, "regrowth_of"):
        _reimage(nurse, _visit(nurse, patient, 4), world, regrowth_of=first)


def test_a_good_pair_measures_the_anagen_fraction_of_the_phantom(nurse, patient, world):
    spec = PhantomSpec(
        seed=37,
        width=1000,
        height=800,
        crossings=False,
        units=False,
        density_per_cm2=300,
        anagen_fraction=0.6,
        um_per_px=UM_PER_PX,
    )
    pair = render_pair(spec, days=2)
    visit0 = _visit(nurse, patient, 10)
    day0 = imaging.trichoscopy_upload(
        actor=nurse,
        visit=visit0,
        target_site=world["site"],
        device=world["device"],
        image=upload("p0.png", _png(pair.day0)),
    )
    day0 = imaging.trichoscopy_analyse(record=day0)
    reimage = imaging.trichoscopy_upload(
        actor=nurse,
        visit=_visit(nurse, patient, 12),
        target_site=world["site"],
        device=world["device"],
        image=upload("p2.png", _png(pair.dayn)),
        regrowth_of=day0,
    )
    reimage = imaging.trichoscopy_analyse(record=reimage)
    assert reimage.status == TrichoscopyImage.Status.ANALYSED
    assert reimage.growth_error == ""
    assert reimage.growing_count + reimage.non_growing_count >= 15
    assert reimage.anagen_fraction == pytest.approx(pair.anagen_fraction, abs=0.15)
    assert reimage.anagen_fraction == pytest.approx(
        reimage.growing_count / (reimage.growing_count + reimage.non_growing_count)
    )
    assert reimage.growth_result["days"] == 2.0
    # The day-0 image's outcome row carries it; the re-image is no visit of its own.
    imaging.trichoscopy_analyse(record=world["day0"])
    registry.outcomes_refresh(patient=patient)
    row = OutcomeRecord.objects.get(image=day0)
    assert row.anagen_fraction == pytest.approx(reimage.anagen_fraction)
    assert not OutcomeRecord.objects.filter(image=reimage).exists()
    assert OutcomeRecord.objects.get(image=world["day0"]).anagen_fraction is None


def test_a_pair_that_cannot_be_measured_keeps_the_single_image(nurse, patient, world, monkeypatch):
    reimage = _reimage(nurse, _visit(nurse, patient, 2), world)

    def broken(*args, **kwargs):
        raise RuntimeError("registration failed")

    monkeypatch.setattr("anagen.trichometry.anagen_telogen", broken)
    reimage = imaging.trichoscopy_analyse(record=reimage)
    assert reimage.status == TrichoscopyImage.Status.ANALYSED
    assert reimage.hair_count is not None
    assert reimage.anagen_fraction is None and reimage.growth_error


def test_the_visit_page_offers_the_day0_image_and_shows_the_fraction(client, nurse, patient, world):
    visit = _visit(nurse, patient, 2)
    client.force_login(nurse)
    page = client.get(reverse("imaging:visit", args=[visit.pk])).content.decode()
    assert 'name="tricho-regrowth_of"' in page
    assert f'value="{world["day0"].pk}"' in page
    # Far from any day-0 image the choice is not offered at all.
    far = _visit(nurse, patient, 20)
    assert (
        'name="tricho-regrowth_of"'
        not in client.get(reverse("imaging:visit", args=[far.pk])).content.decode()
    )
    reimage = _reimage(nurse, visit, world)
    TrichoscopyImage.objects.filter(pk=reimage.pk).update(
        status="analysed", anagen_fraction=0.62, growing_count=31, non_growing_count=19
    )
    page = client.get(reverse("imaging:visit", args=[visit.pk])).content.decode()
    assert "62 %" in page and "31 growing / 19 not" in page
    assert f"Re-image of {DAY0:%d %b %Y}" in page


def test_a_hostile_day0_id_of_another_patient_is_refused_by_the_form(
    client, nurse, patient, world, site, coordinator
):
    someone = patient_create(
        actor=coordinator,
        site=site,
        given_name="Bo",
        family_name="Reed",
        date_of_birth=date(1980, 1, 1),
        sex="male",
        phone="+44 20 7946 0001",
    )
    their_site = imaging.target_site_create(
        actor=nurse, patient=someone, zone="vertex", description="Vertex"
    )
    their_visit0 = _visit(nurse, someone, 0)
    theirs = imaging.trichoscopy_upload(
        actor=nurse,
        visit=their_visit0,
        target_site=their_site,
        device=world["device"],
        image=upload("x.png", phantom_png(7)),
    )
    visit = _visit(nurse, patient, 2)
    client.force_login(nurse)
    response = client.post(
        reverse("imaging:visit", args=[visit.pk]),
        {
            "tricho-target_site": world["site"].pk,
            "tricho-device": world["device"].pk,
            "tricho-image": upload("dn.png", phantom_png(6)),
            "tricho-regrowth_of": theirs.pk,
        },
    )
    assert response.status_code == 200
    assert not visit.trichoscopy.exists()
