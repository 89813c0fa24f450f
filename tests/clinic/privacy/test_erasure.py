"""Erasure on a patient's request: identity gone everywhere (history included), records kept."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, models, transaction
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.imaging.models import GlobalPhoto, TrichoscopyImage
from anagen.clinic.intake.models import Inquiry
from anagen.clinic.patients.models import Patient
from anagen.clinic.patients.selectors import patient_search
from anagen.clinic.privacy.error_codes import PrivacyErrorCode as Code
from anagen.clinic.privacy.models import PrivacyEvent
from anagen.clinic.privacy.services import patient_erase
from anagen.clinic.registry.models import OutcomeRecord
from anagen.clinic.treatment.models import Consent
from tests.clinic.conftest import make_user
from tests.clinic.refusals import raises_code

from .conftest import IDENTIFYING

pytestmark = pytest.mark.django_db(transaction=True)

REASON = "Written request of 3 Dec 2026, received by post"


def _erase(staff, person, **overrides):
    fields = {
        "actor": staff[Role.ADMINISTRATOR],
        "patient": person["patient"],
        "reason": REASON,
        "confirm_mrn": person["patient"].mrn,
    }
    fields.update(overrides)
    return patient_erase(**fields)


def _leftovers() -> list[str]:
    """Every identifying value still stored in any text column of any table (live or history)."""
    found = []
    for model in apps.get_models():
        text_fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField, models.JSONField))
            or f.get_internal_type() in ("DateField", "FileField", "ImageField")
        ]
        if not text_fields:
            continue
        for values in model._default_manager.values_list(*text_fields):
            text = " ".join(str(v) for v in values).lower()
            found += [f"{model._meta.label}: {v}" for v in IDENTIFYING if v.lower() in text]
    return found


def test_erasure_replaces_identity_everywhere_and_keeps_the_records(staff, person):
    patient = person["patient"]
    outcome_rows = OutcomeRecord.objects.filter(patient=patient).count()
    assert outcome_rows > 0
    assert _leftovers(), "the fixture must put identifying values in place"
    front_name = person["front"].image.name
    trichoscopy_name = person["trichoscopy"].image.name
    photo_name = patient.photo.name
    assert "wrenbury" not in trichoscopy_name.lower()  # stored file names are random

    event = _erase(staff, person)

    left = _leftovers()
    assert left == [], "\n".join(left)
    patient.refresh_from_db()
    assert patient.mrn == event.pseudonym and patient.mrn.startswith("X")
    assert patient.full_name == f"Erased patient {event.pseudonym}"
    assert (patient.date_of_birth.year, patient.date_of_birth.month, patient.date_of_birth.day) == (
        1983,
        1,
        1,
    )
    assert (patient.phone, patient.email, patient.address, patient.photo.name) == ("", "", "", "")
    # Files: identity photo and the face photo deleted; the rest kept under neutral names.
    assert not default_storage.exists(photo_name)
    assert not default_storage.exists(front_name)
    assert GlobalPhoto.objects.get(pk=person["front"].pk).image.name == ""
    kept = TrichoscopyImage.objects.get(pk=person["trichoscopy"].pk)
    assert kept.image.name != trichoscopy_name and default_storage.exists(kept.image.name)
    assert not default_storage.exists(trichoscopy_name)
    assert kept.status == "analysed" and kept.hair_count is not None
    top = GlobalPhoto.objects.get(pk=person["top"].pk)
    assert default_storage.exists(top.image.name)
    consent = Consent.objects.get(plan=person["plan"])
    assert default_storage.exists(consent.snapshot_pdf.name)
    # Records and the de-identified registry rows are kept.
    assert OutcomeRecord.objects.filter(patient=patient).count() == outcome_rows
    assert Inquiry.objects.get(pk=person["inquiry"].pk).patient_id == patient.pk
    # Who, when, why: the privacy log, with what was rewritten (counts, never values).
    assert event.kind == "erasure" and event.actor == staff[Role.ADMINISTRATOR]
    assert event.reason == REASON
    history = event.summary["history_rows_pseudonymized"]
    assert history["patients_historicalpatient"] >= 2
    assert history["intake_historicalinquiry"] >= 1
    assert event.summary["files_deleted"] == 2
    # The erasure itself is a new version in the audit trail, by the privacy officer.
    latest = patient.history.order_by("-history_id").first()
    assert latest.history_user == staff[Role.ADMINISTRATOR]
    assert latest.history_change_reason == "erased at the patient's request"


def test_after_erasure_the_old_name_finds_nothing_and_history_is_append_only_again(
    staff, person, client
):
    patient = person["patient"]
    admin = staff[Role.ADMINISTRATOR]
    _erase(staff, person)
    assert not patient_search(user=admin, query="Wrenbury").exists()
    client.force_login(staff[Role.AUDITOR])
    trail = client.get(reverse("audit:patient", args=[patient.pk])).content.decode()
    assert "Erased patient" in trail
    for value in IDENTIFYING:
        assert value.lower() not in trail.lower()
    history = Patient.history.model._meta.db_table
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'UPDATE "{history}" SET given_name = %s', ["Changed"])  # noqa: S608
    with pytest.raises(IntegrityError), transaction.atomic():
        PrivacyEvent.objects.filter(patient=patient).update(reason="changed")


def test_refusals_change_nothing(staff, person, other_site):
    patient = person["patient"]
    before = _leftovers()
    with pytest.raises(PermissionDenied):
        _erase(staff, person, actor=staff[Role.PHYSICIAN])
    with pytest.raises(PermissionDenied):
        _erase(staff, person, actor=make_user(Role.ADMINISTRATOR, other_site))
    with raises_code(Code.CONFIRMATION_MISMATCH):
        _erase(staff, person, confirm_mrn="A0000001")
    with raises_code(Code.REASON_REQUIRED):
        _erase(staff, person, reason="  ")
    assert _leftovers() == before
    assert not PrivacyEvent.objects.exists()
    patient.refresh_from_db()
    _erase(staff, person, patient=patient, confirm_mrn=patient.mrn.lower())
    patient.refresh_from_db()
    with raises_code(Code.ALREADY_ERASED):
        _erase(staff, person, patient=patient, confirm_mrn=patient.mrn)
    assert PrivacyEvent.objects.filter(kind="erasure").count() == 1


def test_two_step_page(staff, person, client, other_site):
    patient = person["patient"]
    url = reverse("privacy:erase", args=[patient.pk])
    client.force_login(staff[Role.ADMINISTRATOR])
    chart = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert url in chart and "Erase identity" in chart
    page = client.get(url).content.decode()
    assert "It cannot be undone" in page
    refused = client.post(url, {"step": "request", "reason": REASON})  # box not ticked
    assert refused.status_code == 200 and "This field is required" in refused.content.decode()
    step2 = client.post(url, {"step": "request", "reason": REASON, "understood": "on"})
    text = step2.content.decode()
    assert "Type the patient&#x27;s MRN to confirm" in text or "Type the patient's MRN" in text
    assert "Last step" in text
    assert not PrivacyEvent.objects.exists()  # nothing happens before the second step
    wrong = client.post(url, {"step": "confirm", "reason": REASON, "confirm_mrn": "A0000001"})
    assert wrong.status_code == 200
    assert "does not match this patient" in wrong.content.decode()
    assert not PrivacyEvent.objects.exists()
    done = client.post(url, {"step": "confirm", "reason": REASON, "confirm_mrn": patient.mrn})
    assert done.status_code == 302 and done["Location"] == reverse(
        "patients:chart", args=[patient.pk]
    )
    event = PrivacyEvent.objects.get()
    chart = client.get(done["Location"]).content.decode()
    assert event.pseudonym in chart and "Wrenbury" not in chart
    assert "was erased on" in client.get(url).content.decode()
    # Pages that show the patient's images still work without the deleted face photo.
    client.force_login(staff[Role.NURSE])
    assert client.get(reverse("imaging:visit", args=[person["visit"].pk])).status_code == 200
    assert client.get(reverse("progress:patient", args=[patient.pk])).status_code == 200
    # Wrong role and other site's administrator: refused.
    assert client.post(url, {"step": "confirm", "reason": REASON}).status_code == 403
    client.force_login(make_user(Role.ADMINISTRATOR, other_site))
    assert client.get(url).status_code == 404


def test_erasure_deletes_the_api_s_stored_answers_that_quote_the_patient(staff, person):
    """A retried API call replays its stored answer: after an erasure it must not hand the
    patient's name back (found by trying it: POST, erase, POST again with the same key)."""
    from anagen.clinic.api.models import IdempotentResponse

    patient = person["patient"]
    user = staff[Role.ADMINISTRATOR]
    quoting = IdempotentResponse.objects.create(
        user=user,
        key="k-1",
        request_hash="x",
        status_code=201,
        body=f'{{"mrn": "{patient.mrn}", "family_name": "{patient.family_name}"}}',
    )
    other = IdempotentResponse.objects.create(
        user=user, key="k-2", request_hash="y", status_code=201, body='{"mrn": "AN9999999"}'
    )
    event = _erase(staff, person)
    assert not IdempotentResponse.objects.filter(pk=quoting.pk).exists()
    assert IdempotentResponse.objects.filter(pk=other.pk).exists()
    assert event.summary["stored_api_replies_deleted"] == 1
