"""The Django admin is for configuration: clinical records are read-only there for everyone.

Every model registered in the admin is classified below as clinical or configuration, so a new
registration must be classified (and a clinical one made read-only) for this file to pass.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from anagen.clinic.accounts.models import Site
from anagen.clinic.accounts.roles import Role
from anagen.clinic.assessment.models import Assessment, EligibilityDecision
from anagen.clinic.imaging.models import Device
from anagen.clinic.intake.models import Appointment, Inquiry
from anagen.clinic.patients.models import Patient
from anagen.clinic.treatment import models as tm
from anagen.clinic.treatment import services
from anagen.clinic.treatment.defaults import ensure_defaults
from tests.clinic.conftest import make_user
from tests.clinic.treatment_helpers import (
    administer,
    consented_plan,
    make_candidate,
    released_product,
)

pytestmark = pytest.mark.django_db

CLINICAL = {
    Patient,
    Inquiry,
    Appointment,
    Assessment,
    EligibilityDecision,
    tm.TreatmentPlan,
    tm.Consent,
    tm.Harvest,
    tm.CellProduct,
    tm.CustodyEvent,
    tm.TreatmentSession,
    tm.InjectionZone,
    tm.AdverseEvent,
    tm.ScheduledVisit,
}
CONFIGURATION = {
    "accounts.site",
    "accounts.user",
    "treatment.protocoltemplate",
    "treatment.consenttext",
    "imaging.device",
}


def registered_clinic_models():
    return [m for m in admin.site._registry if m.__module__.startswith("anagen.")]


def test_every_registered_model_is_classified():
    for model in registered_clinic_models():
        label = model._meta.label_lower
        assert model in CLINICAL or label in CONFIGURATION, f"{label}: clinical or configuration?"


@pytest.fixture
def records(staff, patient):
    """At least one row of every clinical model (demo clinic + one full treatment)."""
    call_command("load_demo", patients=6, stdout=open("/dev/null", "w"))  # noqa: SIM115
    physician, nurse, lab = (staff[r] for r in (Role.PHYSICIAN, Role.NURSE, Role.LAB_TECHNICIAN))
    plan = consented_plan(physician, nurse, patient)
    session = administer(physician, nurse, plan, released_product(physician, lab, plan))
    services.adverse_event_report(
        actor=nurse,
        patient=patient,
        session=session,
        type="bruising",
        site="injection",
        grade=1,
        onset_on=timezone.localdate(),
        relatedness="definite",
        action_taken="Cold pack",
    )
    rows = {}
    for model in registered_clinic_models():
        if model in CLINICAL:
            rows[model] = model.objects.order_by("pk").first()
            assert rows[model] is not None, model
    return rows


@pytest.fixture
def superuser(site):
    return make_user(
        Role.ADMINISTRATOR, site, email="root@example.test", is_staff=True, is_superuser=True
    )


@pytest.fixture
def administrator(site):
    """An administrator with every Django model permission: the admin must still refuse."""
    user = make_user(Role.ADMINISTRATOR, site, email="admin@example.test", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    return user


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("who", ["superuser", "administrator"])
def test_clinical_records_are_read_only_in_the_admin(client, records, request, who):
    client.force_login(request.getfixturevalue(who))
    for model, row in records.items():
        name = model._meta.label
        before = model.objects.filter(pk=row.pk).values().get()
        assert client.get(url(model, "changelist")).status_code == 200, name
        assert client.get(url(model, "add")).status_code == 403, name
        assert client.post(url(model, "add"), {}).status_code == 403, name
        assert client.post(url(model, "change", row.pk), {}).status_code == 403, name
        assert client.post(url(model, "delete", row.pk), {"post": "yes"}).status_code == 403, name
        bulk = client.post(
            url(model, "changelist"),
            {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
        )
        assert bulk.status_code in (200, 302), name
        page = client.get(url(model, "changelist")).content.decode()
        assert 'value="delete_selected"' not in page, name
        if hasattr(model, "history"):
            version = row.history.order_by("history_id").first()
            if version is not None:
                revert = url(model, "simple_history", row.pk, version.history_id)
                assert client.post(revert, {}).status_code == 403, name
        assert model.objects.filter(pk=row.pk).values().get() == before, name


def test_eligibility_decision_cannot_be_flipped_in_the_admin(client, records, superuser):
    decision = records[EligibilityDecision]
    client.force_login(superuser)
    response = client.post(
        url(EligibilityDecision, "change", decision.pk),
        {"outcome": "candidate", "override_outcome": "", "ruleset_version": "x"},
    )
    assert response.status_code == 403
    assert EligibilityDecision.objects.get(pk=decision.pk).outcome == decision.outcome


def test_configuration_stays_editable(client, superuser):
    client.force_login(superuser)
    for model in (Site, tm.ProtocolTemplate, tm.ConsentText, Device):
        assert client.get(url(model, "add")).status_code == 200, model
    response = client.post(
        url(Device, "add"),
        {"name": "Dermatoscope", "magnification": "20x", "um_per_px": "2.5", "active": "on"},
    )
    assert response.status_code == 302
    assert Device.objects.get(name="Dermatoscope").um_per_px == 2.5


# --- consent wording: frozen once signed, in the model, not only in the admin -------------------


@pytest.fixture
def signed_text(staff, patient):
    consented_plan(staff[Role.PHYSICIAN], staff[Role.NURSE], patient)
    _, text = ensure_defaults()
    return text


def test_signed_consent_text_cannot_be_rewritten(signed_text):
    signed_text.body = "Something the patient never read."
    with pytest.raises(ValidationError, match="new version"):
        signed_text.save()
    signed_text.refresh_from_db()
    assert "never read" not in signed_text.body
    # Retiring a signed version is configuration, and allowed.
    signed_text.active = False
    signed_text.save()


def test_unsigned_consent_text_can_be_edited(db):
    text = tm.ConsentText.objects.create(version="9", title="Draft", body="Draft wording")
    text.body = "Final wording"
    text.save()
    assert tm.ConsentText.objects.get(pk=text.pk).body == "Final wording"


def test_signed_consent_text_cannot_be_rewritten_through_the_admin(
    client, staff, patient, superuser
):
    physician, nurse = staff[Role.PHYSICIAN], staff[Role.NURSE]
    text = tm.ConsentText.objects.create(version="9", title="Consent", body="Draft wording")
    text.body = "Final wording"
    text.save()
    protocol, _ = ensure_defaults()
    make_candidate(physician, patient)
    plan = services.plan_create(actor=physician, patient=patient, protocol=protocol)
    services.consent_sign(
        actor=nurse, plan=plan, consent_text=text, signer_name=patient.full_name, agrees=True
    )
    client.force_login(superuser)
    client.post(
        url(tm.ConsentText, "change", text.pk),
        {"version": "9", "title": "Consent", "body": "rewritten", "active": "on"},
    )
    draft = text.history.order_by("history_id").first()
    assert draft.body == "Draft wording"
    # Reverting to the draft through the history page is a rewrite too.
    revert = client.post(url(tm.ConsentText, "simple_history", text.pk, draft.history_id), {})
    assert revert.status_code == 200 and "new version" in revert.content.decode()
    assert tm.ConsentText.objects.get(pk=text.pk).body == "Final wording"
    delete = client.post(url(tm.ConsentText, "delete", text.pk), {"post": "yes"})
    assert delete.status_code == 403
    assert tm.ConsentText.objects.filter(pk=text.pk).exists()
