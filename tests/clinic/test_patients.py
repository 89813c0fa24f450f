from datetime import date, timedelta
from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from anagen.clinic.patients.models import Patient
from anagen.clinic.patients.selectors import patient_search
from anagen.clinic.patients.services import patient_create

pytestmark = pytest.mark.django_db


def new_patient(actor, site, **overrides):
    fields = {
        "given_name": "Bram",
        "family_name": "Hazelmere",
        "date_of_birth": date(1979, 11, 30),
        "sex": "male",
        "phone": "+44 7700 900001",
    }
    fields.update(overrides)
    return patient_create(actor=actor, site=site, **fields)


def test_mrns_are_generated_unique_and_sequential(coordinator, site):
    first, second = new_patient(coordinator, site), new_patient(coordinator, site)
    assert first.mrn != second.mrn
    assert int(second.mrn[2:]) == int(first.mrn[2:]) + 1


def test_search_by_name_mrn_and_birth_date(coordinator, site, patient):
    other = new_patient(coordinator, site)
    assert list(patient_search(user=coordinator, query="quill")) == [patient]
    assert list(patient_search(user=coordinator, query="Ada Quill")) == [patient]
    assert list(patient_search(user=coordinator, query=other.mrn)) == [other]
    assert list(patient_search(user=coordinator, query="1988-04-02")) == [patient]
    assert list(patient_search(user=coordinator, query="02/04/1988")) == [patient]


def test_future_birth_date_is_refused_and_nothing_saved(coordinator, site):
    with pytest.raises(ValidationError, match="future"):
        new_patient(coordinator, site, date_of_birth=date.today() + timedelta(days=1))
    assert Patient.objects.count() == 0


def test_cannot_register_at_a_site_you_do_not_work_at(coordinator, other_site):
    with pytest.raises(PermissionDenied):
        new_patient(coordinator, other_site)


def test_history_keeps_earlier_values(coordinator, patient):
    from anagen.clinic.patients.services import patient_update

    patient_update(actor=coordinator, patient=patient, phone="+44 7700 900999")
    phones = [h.phone for h in patient.history.order_by("history_date")]
    assert phones == ["+44 20 7946 0000", "+44 7700 900999"]


def _png(width=64, height=64) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (width, height), (200, 170, 150)).save(buffer, "PNG")
    return buffer.getvalue()


def _bomb_png() -> bytes:
    """A tiny PNG whose header claims 30 000 × 30 000 pixels (decompression bomb)."""
    import struct
    import zlib

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _form(site, **extra):
    data = {
        "site": site.pk,
        "given_name": "Iona",
        "family_name": "Juniper",
        "date_of_birth": "1990-05-06",
        "sex": "female",
        "phone": "+44 7700 900111",
    }
    data.update(extra)
    return data


def test_photo_upload_is_shown_to_staff(client, coordinator, site):
    client.force_login(coordinator)
    photo = SimpleUploadedFile("face.png", _png(), content_type="image/png")
    response = client.post(reverse("patients:create"), {**_form(site), "photo": photo})
    assert response.status_code == 302
    patient = Patient.objects.get()
    chart = client.get(reverse("patients:chart", args=[patient.pk]))
    assert reverse("patients:photo", args=[patient.pk]) in chart.content.decode()
    assert client.get(reverse("patients:photo", args=[patient.pk]))["Content-Type"] == "image/png"


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"this is not an image", "not a readable image"),
        (_png()[:60], "damaged or truncated"),
        (_bomb_png(), "megapixel limit"),
    ],
    ids=["not-an-image", "truncated", "decompression-bomb"],
)
def test_bad_photo_gives_form_error_and_saves_nothing(client, coordinator, site, payload, message):
    client.force_login(coordinator)
    photo = SimpleUploadedFile("face.png", payload, content_type="image/png")
    response = client.post(reverse("patients:create"), {**_form(site), "photo": photo})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Patient.objects.count() == 0


@pytest.mark.parametrize(
    "field, value",
    [
        ("date_of_birth", "2031-02-30"),
        ("date_of_birth", "2999-01-01"),
        ("sex", "dragon"),
        ("given_name", "x" * 500),
    ],
)
def test_bad_patient_input_is_refused(client, coordinator, site, field, value):
    client.force_login(coordinator)
    response = client.post(reverse("patients:create"), _form(site, **{field: value}))
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert Patient.objects.count() == 0


def test_oversized_post_is_refused_and_saves_nothing(client, coordinator, site):
    client.force_login(coordinator)
    response = client.post(reverse("patients:create"), _form(site, address="A" * 3_000_000))
    assert response.status_code == 400
    assert "too large" in response.content.decode()
    assert Patient.objects.count() == 0
