"""Consent: signed with a PDF of exactly what was signed, withdrawn for the whole plan."""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction

from anagen.clinic.accounts.access import require_site_access
from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import Perm, require
from anagen.clinic.common import clock

from ..documents import consent_snapshot_html
from ..models import (
    Consent,
    ConsentText,
    TreatmentPlan,
)
from ..selectors import valid_consent_for
from ._common import Code, _gate


@transaction.atomic
def consent_sign(
    *,
    actor: User,
    plan: TreatmentPlan,
    consent_text: ConsentText,
    signer_name: str,
    agrees: bool,
) -> Consent:
    """Record the patient's e-signature and keep a PDF of exactly what was signed."""
    require(actor, Perm.CONSENT_WITNESS)
    require_site_access(user=actor, site_id=plan.patient.site_id)
    signer_name = (signer_name or "").strip()
    if not agrees:
        raise _gate(
            "The patient must tick that they have read and agree.", Code.NOT_AGREED, "agrees"
        )
    if signer_name.casefold() != plan.patient.full_name.casefold():
        raise _gate(
            "Type the patient's full name exactly as registered to sign.",
            Code.SIGNER_NAME_MISMATCH,
            "signer_name",
        )
    if not consent_text.active:
        raise _gate(
            "This consent version is no longer in use.", Code.CONSENT_TEXT_RETIRED, "consent_text"
        )
    if plan.status == TreatmentPlan.Status.CANCELLED:
        raise _gate("The plan is cancelled.", Code.PLAN_CLOSED)
    signed_at = clock.now()
    meaning = (
        f"I, {signer_name}, have read consent version {consent_text.version}, understand that "
        "this therapy is investigational, and agree to the treatment plan described."
    )
    html = consent_snapshot_html(
        plan=plan,
        consent_text=consent_text,
        signer_name=signer_name,
        signed_at=signed_at,
        meaning=meaning,
        witness=actor,
    )
    from weasyprint import HTML

    pdf = HTML(string=html).write_pdf()
    consent = Consent(
        plan=plan,
        consent_text=consent_text,
        signer_name=signer_name,
        meaning=meaning,
        signed_at=signed_at,
        witnessed_by=actor,
        snapshot_sha256=hashlib.sha256(pdf).hexdigest(),
    )
    consent.snapshot_pdf.save(
        f"consent-plan{plan.pk}-v{consent_text.version}.pdf", ContentFile(pdf), save=False
    )
    consent.save()
    if plan.status == TreatmentPlan.Status.AWAITING_CONSENT:
        plan.status = TreatmentPlan.Status.CONSENTED
        plan.save(update_fields=["status"])
    return consent


@transaction.atomic
def consent_withdraw(*, actor: User, consent: Consent, reason: str) -> Consent:
    """The patient withdraws consent to the plan: every signature on it stops counting.

    Only the consent in force can be withdrawn: a form opened on an older or already withdrawn
    signature (a stale tab) must not withdraw the patient's newer one. The first withdrawal's
    time and reason stay as recorded.
    """
    require(actor, Perm.CONSENT_WITNESS)
    require_site_access(user=actor, site_id=consent.plan.patient.site_id)
    if not reason.strip():
        raise _gate("Record why consent was withdrawn.", Code.REASON_REQUIRED, "reason")
    in_force = list(
        Consent.objects.select_for_update().filter(plan=consent.plan, withdrawn_at__isnull=True)
    )
    current = valid_consent_for(consent.plan)
    if not in_force or current is None or current.pk != consent.pk:
        raise _gate(
            "This signature is no longer the consent in force (already withdrawn, or signed "
            "again since): nothing was changed. Open the plan to see the consent in force.",
            Code.ALREADY_WITHDRAWN,
        )
    now = clock.now()
    for signed in in_force:
        signed.withdrawn_at = now
        signed.withdrawal_reason = reason.strip()
        signed.save(update_fields=["withdrawn_at", "withdrawal_reason"])
    plan = consent.plan
    if plan.status == TreatmentPlan.Status.CONSENTED:
        plan.status = TreatmentPlan.Status.AWAITING_CONSENT
        plan.save(update_fields=["status"])
    consent.refresh_from_db()
    return consent
