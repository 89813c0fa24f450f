from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from anagen.clinic.patients.error_codes import PatientErrorCode
from anagen.clinic.patients.models import Patient
from anagen.clinic.patients.selectors import patient_search
from anagen.clinic.patients.services import patient_create
from tests.clinic.imaging_helpers import bomb_png, plain_png
from tests.clinic.refusals import raises_code

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
    first = new_patient(coordinator, site)
    second = new_patient(coordinator, site, given_name="Cora", phone="+44 7700 900002")
    assert first.mrn != second.mrn
    assert int(second.mrn[2:]) == int(first.mrn[2:]) + 1


def test_search_by_name_mrn_and_birth_date(coordinator, site, patient):
    other = new_patient(coordinator, site, given_name="Cora", phone="+44 7700 900002")
    assert list(patient_search(user=coordinator, query="quill")) == [patient]
    assert list(patient_search(user=coordinator, query="Ada Quill")) == [patient]
    assert list(patient_search(user=coordinator, query=other.mrn)) == [other]
    assert list(patient_search(user=coordinator, query="1988-04-02")) == [patient]
    assert list(patient_search(user=coordinator, query="02/04/1988")) == [patient]


def test_future_birth_date_is_refused_and_nothing_saved(coordinator, site):
    with raises_code(PatientErrorCode.DATE_OF_BIRTH, "date_of_birth"):
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
    photo = SimpleUploadedFile("face.png", plain_png(), content_type="image/png")
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
        (plain_png()[:60], "damaged or truncated"),
        (bomb_png(), "megapixel limit"),
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


# --- explicit service signatures ------------------------------------------------------------


def test_patient_update_cannot_rewrite_the_mrn_or_the_author(coordinator, patient):
    from anagen.clinic.patients.services import patient_update

    with pytest.raises(TypeError):
        patient_update(actor=coordinator, patient=patient, mrn="AN9999999")
    with pytest.raises(TypeError):
        patient_update(actor=coordinator, patient=patient, created_by=None)
    patient.refresh_from_db()
    assert patient.mrn.startswith("AN") and patient.mrn != "AN9999999"


def test_patient_create_takes_no_mrn(coordinator, site):
    with pytest.raises(TypeError):
        new_patient(coordinator, site, mrn="AN0000001")
    assert not Patient.objects.exists()


def test_auditor_cannot_register_a_patient(staff, site):
    from anagen.clinic.accounts.roles import Role

    with pytest.raises(PermissionDenied):
        new_patient(staff[Role.AUDITOR], site)
    assert not Patient.objects.exists()


def test_patient_update_changes_only_what_is_passed(coordinator, patient):
    from anagen.clinic.patients.services import patient_update

    patient_update(actor=coordinator, patient=patient, email="new@example.test")
    patient.refresh_from_db()
    assert (patient.email, patient.phone) == ("new@example.test", "+44 20 7946 0000")


# --- possible duplicates -------------------------------------------------------------------


def test_identical_second_patient_needs_confirmation(coordinator, site):
    from anagen.clinic.patients.services import PossibleDuplicate

    first = new_patient(coordinator, site)
    with pytest.raises(PossibleDuplicate) as caught:
        new_patient(coordinator, site)
    assert caught.value.code == PatientErrorCode.POSSIBLE_DUPLICATE
    assert caught.value.matches == [first]
    assert first.full_name not in " ".join(caught.value.messages)  # no PHI in the message
    assert Patient.objects.count() == 1
    second = new_patient(coordinator, site, confirm_not_duplicate=True)
    assert second.mrn != first.mrn and Patient.objects.count() == 2


@pytest.mark.parametrize(
    "overrides",
    [
        {"given_name": "  bram ", "family_name": "HAZELMERE", "phone": ""},
        {"given_name": "Someone", "family_name": "Else", "phone": "+44 (7700) 900-001"},
        {
            "given_name": "Someone",
            "family_name": "Else",
            "phone": "",
            "email": "BRAM@Example.test",
            "date_of_birth": date(1960, 1, 1),
        },
    ],
    ids=["same-name-and-birth-date", "same-phone", "same-email"],
)
def test_duplicate_is_found_by_name_and_birth_date_phone_or_email(coordinator, site, overrides):
    from anagen.clinic.patients.services import PossibleDuplicate

    first = new_patient(coordinator, site, email="bram@example.test")
    with pytest.raises(PossibleDuplicate) as caught:
        new_patient(coordinator, site, **overrides)
    assert caught.value.matches == [first]


def test_same_name_other_birth_date_and_contact_is_not_a_duplicate(coordinator, site):
    new_patient(coordinator, site)
    new_patient(coordinator, site, date_of_birth=date(1980, 1, 1), phone="+44 7700 900777")
    assert Patient.objects.count() == 2


def test_duplicates_are_searched_across_the_network(coordinator, site, other_site):
    from anagen.clinic.accounts.roles import Role
    from anagen.clinic.patients.services import PossibleDuplicate
    from tests.clinic.conftest import make_user

    there = new_patient(make_user(Role.COORDINATOR, other_site), other_site)
    with pytest.raises(PossibleDuplicate) as caught:
        new_patient(coordinator, site)
    assert caught.value.matches == [there]


def test_new_patient_page_shows_matches_and_asks_to_confirm(client, coordinator, site):
    existing = new_patient(
        coordinator, site, given_name="Iona", family_name="Juniper", date_of_birth=date(1990, 5, 6)
    )
    client.force_login(coordinator)
    response = client.post(reverse("patients:create"), _form(site))
    body = response.content.decode()
    assert response.status_code == 200 and Patient.objects.count() == 1
    assert existing.mrn in body and "06 May 1990" in body and site.name in body
    assert "This is a different person" in body
    confirmed = client.post(reverse("patients:create"), _form(site, confirm_not_duplicate="on"))
    assert confirmed.status_code == 302 and Patient.objects.count() == 2


def test_match_at_another_site_is_shown_without_details(client, coordinator, site, other_site):
    from anagen.clinic.accounts.roles import Role
    from tests.clinic.conftest import make_user

    there = new_patient(
        make_user(Role.COORDINATOR, other_site),
        other_site,
        given_name="Iona",
        family_name="Juniper",
        date_of_birth=date(1990, 5, 6),
    )
    client.force_login(coordinator)
    body = client.post(reverse("patients:create"), _form(site)).content.decode()
    assert "A patient at another site" in body and "This is a different person" in body
    assert there.mrn not in body and other_site.name not in body and "Hazelmere" not in body
    assert Patient.objects.count() == 1


def test_confirmation_cannot_be_sent_blind_on_the_edit_page(client, coordinator, patient):
    client.force_login(coordinator)
    data = _form(patient.site, given_name="Ada", family_name="Quill", date_of_birth="1988-04-02")
    response = client.post(
        reverse("patients:edit", args=[patient.pk]), {**data, "confirm_not_duplicate": "on"}
    )
    assert response.status_code == 302  # the stray field is ignored, not a crash
