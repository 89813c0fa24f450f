"""Consent: signing, the signed PDF, withdrawal."""

from __future__ import annotations

import pytest
from django.utils import timezone

from anagen.clinic.treatment import selectors, services
from anagen.clinic.treatment.defaults import ensure_defaults
from anagen.clinic.treatment.error_codes import TreatmentErrorCode as Code
from anagen.clinic.treatment.models import (
    CellProduct,
    TreatmentSession,
)
from tests.clinic.refusals import raises_code, refused
from tests.clinic.treatment_helpers import (
    administer,
    consented_plan,
    harvest,
    released_product,
)

pytestmark = pytest.mark.django_db


def test_consent_snapshot_is_the_signed_pdf(plan):
    consent = plan.consents.get()
    data = consent.snapshot_pdf.read()
    assert data.startswith(b"%PDF")
    import hashlib

    assert hashlib.sha256(data).hexdigest() == consent.snapshot_sha256
    assert "investigational" in consent.consent_text.body.lower()
    plan.refresh_from_db()
    assert plan.status == "consented"


def test_consent_requires_the_patients_own_name(team, candidate):
    patient = candidate
    physician, nurse, _ = team
    from anagen.clinic.treatment.defaults import ensure_defaults

    protocol, text = ensure_defaults()
    plan = services.plan_create(actor=physician, patient=patient, protocol=protocol)
    with raises_code(Code.SIGNER_NAME_MISMATCH, "signer_name"):
        services.consent_sign(
            actor=nurse, plan=plan, consent_text=text, signer_name="Someone Else", agrees=True
        )
    assert not plan.consents.exists()


def test_a_withdrawn_consent_stops_the_administration(team, patient):
    physician, nurse, lab = team
    plan = consented_plan(physician, nurse, patient)
    product = released_product(physician, lab, plan)
    services.consent_withdraw(actor=nurse, consent=plan.consents.get(), reason="Changed mind")
    error = refused(Code.NO_CONSENT, administer, physician, nurse, plan, product)
    assert "withdrawn" in str(error)
    refused(
        Code.NO_CONSENT,
        services.identity_check,
        plan=plan,
        scanned_product_code=product.product_code,
        scanned_mrn=patient.mrn,
        now=timezone.now(),
    )
    product.refresh_from_db()
    assert product.status == CellProduct.Status.RELEASED and not TreatmentSession.objects.exists()


def test_a_withdrawal_ends_every_signature_on_the_plan(team, patient):
    """Found by trying it: with two signatures, withdrawing the newest left the older valid."""
    physician, nurse, _ = team
    plan = consented_plan(physician, nurse, patient)
    _, text = ensure_defaults()
    again = services.consent_sign(
        actor=nurse, plan=plan, consent_text=text, signer_name=patient.full_name, agrees=True
    )
    services.consent_withdraw(actor=nurse, consent=again, reason="Patient withdrew by phone")
    assert selectors.valid_consent_for(plan) is None
    refused(Code.NO_CONSENT, harvest, physician, plan)
    assert plan.consents.filter(withdrawn_at__isnull=True).count() == 0
    # Withdrawing again keeps the first withdrawal's time and reason.
    first = plan.consents.get(pk=again.pk)
    with raises_code(Code.ALREADY_WITHDRAWN):
        services.consent_withdraw(actor=nurse, consent=first, reason="Different reason later")
    first.refresh_from_db()
    assert first.withdrawal_reason == "Patient withdrew by phone"
    # Only a new signature after the withdrawal restores consent.
    services.consent_sign(
        actor=nurse, plan=plan, consent_text=text, signer_name=patient.full_name, agrees=True
    )
    assert selectors.valid_consent_for(plan) is not None


def test_a_stale_withdrawal_form_cannot_withdraw_a_newer_signature(team, patient):
    """Found by trying it: a withdraw form left open withdrew the patient's new signature."""
    physician, nurse, _ = team
    plan = consented_plan(physician, nurse, patient)
    old = plan.consents.get()
    services.consent_withdraw(actor=nurse, consent=old, reason="Withdrawn at reception")
    _, text = ensure_defaults()
    new = services.consent_sign(
        actor=nurse, plan=plan, consent_text=text, signer_name=patient.full_name, agrees=True
    )
    with raises_code(Code.ALREADY_WITHDRAWN):
        services.consent_withdraw(actor=nurse, consent=old, reason="Stale tab")
    new.refresh_from_db()
    assert new.withdrawn_at is None and selectors.valid_consent_for(plan) == new
