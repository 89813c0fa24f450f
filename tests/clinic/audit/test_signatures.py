"""E-signatures are HMACs under a server key: database access alone cannot make one verify."""

from __future__ import annotations

import hashlib
import zoneinfo
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from anagen.clinic.accounts.roles import Role
from anagen.clinic.audit.models import Signature
from anagen.clinic.audit.selectors import patient_audit_trail
from anagen.clinic.audit.signatures import (
    _canonical,
    _manifest,
    current_signature,
    record_digest,
    signature_sign,
)
from anagen.clinic.patients.models import Patient
from anagen.clinic.settings.base import signature_keys
from tests.clinic.conftest import PASSWORD

pytestmark = pytest.mark.django_db

MEANING = Signature.Meaning.VERIFY  # any meaning will do: these tests sign a patient record
K2025 = {"k2025": "old-secret"}
K2026 = {"k2026": "new-secret", **K2025}


@pytest.fixture
def physician(staff):
    return staff[Role.PHYSICIAN]


def sign(physician, patient, meaning=MEANING):
    return signature_sign(actor=physician, record=patient, meaning=meaning, password=PASSWORD)


def _insert(signature_fields, patient):
    """Write a signature row directly, as someone with database access could (INSERT is allowed)."""
    return Signature.objects.create(
        content_type=ContentType.objects.get_for_model(Patient),
        object_id=patient.pk,
        **signature_fields,
    )


def test_new_signatures_are_keyed_with_the_current_key(physician, patient):
    signature = sign(physician, patient)
    assert signature.key_id == "test" and not signature.is_legacy
    assert signature.record_digest != record_digest(patient)  # not the old unkeyed digest
    assert current_signature(patient, MEANING) == signature


def test_a_changed_record_no_longer_verifies(physician, patient):
    sign(physician, patient)
    Patient.objects.filter(pk=patient.pk).update(given_name="Eve")
    patient.refresh_from_db()
    assert current_signature(patient, MEANING) is None


def test_a_digest_computed_without_the_key_does_not_verify(physician, patient):
    """A forged row with a SHA-256 of exactly what the HMAC covers still does not verify."""
    genuine = sign(physician, patient)
    forged = Signature(
        signer=physician,
        signer_name=physician.display_name,
        meaning=MEANING,
        signed_at=genuine.signed_at,
        record_version=genuine.record_version,
        key_id="test",
    )
    forged.record_digest = hashlib.sha256(_canonical(_manifest(forged, patient))).hexdigest()
    _insert(
        {
            f: getattr(forged, f)
            for f in ("signer", "signer_name", "meaning", "signed_at", "record_version")
        }
        | {"key_id": "test", "record_digest": forged.record_digest},
        patient,
    )
    assert current_signature(patient, MEANING) is None


def test_a_digest_copied_to_another_meaning_does_not_verify(physician, patient):
    """The HMAC covers who signed and what for: one signature cannot be replayed as another."""
    genuine = sign(physician, patient, Signature.Meaning.VERIFY)
    _insert(
        {
            "signer": physician,
            "signer_name": physician.display_name,
            "meaning": Signature.Meaning.RELEASE,
            "signed_at": genuine.signed_at,
            "record_version": genuine.record_version,
            "key_id": genuine.key_id,
            "record_digest": genuine.record_digest,
        },
        patient,
    )
    assert current_signature(patient, Signature.Meaning.RELEASE) is None
    assert current_signature(patient, MEANING) == genuine


def test_rotation_keeps_old_signatures_valid(physician, patient):
    with override_settings(ANAGEN_SIGNATURE_KEYS=K2025, ANAGEN_SIGNATURE_KEY_ID="k2025"):
        old = sign(physician, patient)
    with override_settings(ANAGEN_SIGNATURE_KEYS=K2026, ANAGEN_SIGNATURE_KEY_ID="k2026"):
        assert current_signature(patient, MEANING) == old
        new = sign(physician, patient, Signature.Meaning.VERIFY)
        assert (old.key_id, new.key_id) == ("k2025", "k2026")
        assert current_signature(patient, Signature.Meaning.VERIFY) == new


def test_a_removed_key_invalidates_its_signatures(physician, patient):
    with override_settings(ANAGEN_SIGNATURE_KEYS=K2025, ANAGEN_SIGNATURE_KEY_ID="k2025"):
        sign(physician, patient)
    with override_settings(
        ANAGEN_SIGNATURE_KEYS={"k2026": "new-secret"}, ANAGEN_SIGNATURE_KEY_ID="k2026"
    ):
        assert current_signature(patient, MEANING) is None
    with override_settings(
        ANAGEN_SIGNATURE_KEYS={"k2025": "another-secret"}, ANAGEN_SIGNATURE_KEY_ID="k2025"
    ):
        assert current_signature(patient, MEANING) is None  # same id, different secret


def test_signing_needs_a_configured_current_key(physician, patient):
    with (
        override_settings(ANAGEN_SIGNATURE_KEY_ID="missing"),
        pytest.raises(ImproperlyConfigured),
    ):
        sign(physician, patient)
    assert not Signature.objects.exists()


def _legacy(physician, patient):
    """A signature as stored before keying: no key id, unkeyed SHA-256 of the record."""
    return _insert(
        {
            "signer": physician,
            "signer_name": physician.display_name,
            "meaning": MEANING,
            "record_digest": record_digest(patient),
        },
        patient,
    )


def test_legacy_signatures_verify_unless_refused(physician, patient):
    legacy = _legacy(physician, patient)
    assert legacy.is_legacy and current_signature(patient, MEANING) == legacy
    with override_settings(ANAGEN_SIGNATURE_ACCEPT_LEGACY=False):
        assert current_signature(patient, MEANING) is None
    Patient.objects.filter(pk=patient.pk).update(given_name="Eve")
    patient.refresh_from_db()
    assert current_signature(patient, MEANING) is None


def test_audit_trail_flags_legacy_signatures(client, staff, patient):
    from tests.clinic.treatment_helpers import consented_plan, released_product

    physician, nurse, lab = staff[Role.PHYSICIAN], staff[Role.NURSE], staff[Role.LAB_TECHNICIAN]
    product = released_product(physician, lab, consented_plan(physician, nurse, patient))
    Signature.objects.create(
        signer=lab,
        signer_name=lab.display_name,
        meaning=Signature.Meaning.VERIFY,
        content_type=ContentType.objects.get_for_model(product),
        object_id=product.pk,
        record_digest=record_digest(product),
    )
    reasons = [e.reason for e in patient_audit_trail(patient=patient) if "e-signature" in e.action]
    assert any("LEGACY unkeyed" in r for r in reasons)
    assert any("key test, HMAC" in r for r in reasons)
    client.force_login(staff[Role.AUDITOR])
    assert "LEGACY unkeyed" in client.get(reverse("audit:patient", args=[patient.pk])).text


def test_signature_keys_setting_is_parsed():
    assert signature_keys("k2026:secret, k2025:old:with:colons") == {
        "k2026": "secret",
        "k2025": "old:with:colons",
    }
    assert signature_keys("") == {}
    for bad in ("k2026", "k2026:", ":secret"):
        with pytest.raises(ValueError, match="key-id:secret"):
            signature_keys(bad)


def test_a_signature_survives_reloading_the_record(staff, patient):
    """Signed in memory, verified from the database: Decimal places and time zones may differ."""
    from anagen.clinic.treatment.models import TreatmentSession
    from tests.clinic.treatment_helpers import administer, consented_plan, released_product

    physician, nurse, lab = staff[Role.PHYSICIAN], staff[Role.NURSE], staff[Role.LAB_TECHNICIAN]
    plan = consented_plan(physician, nurse, patient)
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    product = released_product(physician, lab, plan)
    # After the release (a session cannot start before it), in another time zone.
    started, ended = (timezone.now().astimezone(paris) + timedelta(minutes=m) for m in (0, 2))
    session = administer(physician, nurse, plan, product, started_at=started, ended_at=ended)
    stored = TreatmentSession.objects.get(pk=session.pk)
    assert current_signature(stored, Signature.Meaning.VERIFY) is not None


def test_system_check_refuses_a_missing_current_key():
    from anagen.clinic.audit.checks import signature_keys_check

    assert signature_keys_check(None) == []
    with override_settings(ANAGEN_SIGNATURE_KEYS=K2025, ANAGEN_SIGNATURE_KEY_ID="k2026"):
        assert [e.id for e in signature_keys_check(None)] == ["anagen.E001"]
    with override_settings(ANAGEN_SIGNATURE_KEYS={"": "x", "k": "y"}, ANAGEN_SIGNATURE_KEY_ID="k"):
        assert [e.id for e in signature_keys_check(None)] == ["anagen.E002"]
