"""Administration: the two-person identity check and the injection map."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from anagen.clinic.accounts.access import require_site_access
from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.passwords import (
    PasswordNotConfirmed,
    counts_password_failures,
    password_confirm,
)
from anagen.clinic.accounts.policy import Perm, allows, require
from anagen.clinic.audit.models import Signature
from anagen.clinic.audit.signatures import current_signature, signature_sign
from anagen.clinic.common import clock
from anagen.clinic.common.scalp import ScalpZone
from anagen.clinic.intake.models import Appointment
from anagen.identity import (
    InvalidIdentifier,
    parse_product_id,
)

from ..models import (
    CellProduct,
    CustodyEvent,
    InjectionZone,
    ScheduledVisit,
    TreatmentPlan,
    TreatmentSession,
)
from ._common import (
    CLOCK_SKEW,
    Code,
    S,
    _gate,
)
from .gates import require_eligible, require_valid_consent
from .lifecycle import ADMINISTRABLE, _transition
from .schedule import visits_schedule


class IdentityCheckFailed(ValidationError):
    """The product and the patient in front of the clinician do not match."""


PRODUCT_CODE = "scanned_product_code"


def identity_check(
    *, plan: TreatmentPlan, scanned_product_code: str, scanned_mrn: str, now: datetime
) -> CellProduct:
    """Resolve the scanned product and prove it may go into this patient now.

    The patient must still be a candidate and the plan's consent still valid at this moment (a
    withdrawal stops everything that follows it).
    """
    require_eligible(plan.patient)
    require_valid_consent(plan)
    try:
        product_id = parse_product_id(scanned_product_code)
    except InvalidIdentifier as exc:
        raise IdentityCheckFailed(
            _gate(f"Not a valid product identifier: {exc}", Code.INVALID_IDENTIFIER, PRODUCT_CODE)
        ) from None
    product = (
        CellProduct.objects.select_for_update()
        .select_related("patient", "harvest__plan__protocol")
        .filter(product_code=product_id.text)
        .first()
    )
    if product is None:
        raise IdentityCheckFailed(
            _gate("No product with this identifier exists.", Code.UNKNOWN_PRODUCT, PRODUCT_CODE)
        )
    patient = plan.patient
    if scanned_mrn.strip().upper() != patient.mrn:  # guard: mrn
        raise IdentityCheckFailed(
            _gate("The MRN does not match this patient's chart.", Code.MRN_MISMATCH, "scanned_mrn")
        )
    if product.patient_id != patient.pk or product.harvest.patient_id != patient.pk:
        raise IdentityCheckFailed(  # guard: patient
            _gate(
                "STOP: this product belongs to another patient.", Code.WRONG_PATIENT, PRODUCT_CODE
            )
        )
    if product.status == S.ADMINISTERED:
        raise IdentityCheckFailed(
            _gate(
                "This product has already been administered.",
                Code.ALREADY_ADMINISTERED,
                PRODUCT_CODE,
            )
        )
    if product.status not in ADMINISTRABLE:
        raise IdentityCheckFailed(
            _gate(
                f"The product is {product.get_status_display().lower()}, not released.",
                Code.WRONG_STATUS,
                PRODUCT_CODE,
            )
        )
    if product.expires_at <= now:  # guard: expiry
        raise IdentityCheckFailed(_gate("The product has expired.", Code.EXPIRED, PRODUCT_CODE))
    if current_signature(product, Signature.Meaning.RELEASE) is None:
        raise IdentityCheckFailed(
            _gate(
                "The release signature no longer matches the product record.",
                Code.SIGNATURE_INVALID,
                PRODUCT_CODE,
            )
        )
    return product


@counts_password_failures
@transaction.atomic
def session_administer(
    *,
    actor: User,
    plan: TreatmentPlan,
    scanned_product_code: str,
    scanned_mrn: str,
    verifier: User,
    verifier_password: str,
    zones: list[dict[str, Any]],
    started_at: datetime,
    ended_at: datetime,
    submission_token: str,
    adjuncts: list[str] | None = None,
    appointment: Appointment | None = None,
    notes: str = "",
) -> TreatmentSession:
    """Administer a product to its own patient after the two-person identity check."""
    require(actor, Perm.SESSION_ADMINISTER)
    require_site_access(user=actor, site_id=plan.patient.site_id)
    if not submission_token:
        raise _gate("Missing submission token.", Code.MISSING_TOKEN)
    if TreatmentSession.objects.filter(submission_token=submission_token).exists():
        raise _gate(  # guard: replay
            "This session was already recorded (double submission); nothing changed.",
            Code.ALREADY_RECORDED,
        )
    if verifier.pk == actor.pk:  # guard: verifier-not-administrator
        raise IdentityCheckFailed(
            _gate(
                "A second person must verify: choose someone else.",
                Code.VERIFIER_IS_ADMINISTRATOR,
                "verifier",
            )
        )
    if not allows(verifier, Perm.SESSION_VERIFY):  # guard: verifier-role
        raise IdentityCheckFailed(
            _gate("The verifier must be a physician or nurse.", Code.VERIFIER_ROLE, "verifier")
        )
    try:  # counts towards the verifier's login lockout (accounts.passwords)
        password_confirm(
            verifier, verifier_password, purpose="the verification", field="verifier_password"
        )
    except PasswordNotConfirmed as refused:
        raise IdentityCheckFailed(  # guard: verifier-password
            {
                field: [ValidationError(m, code=Code.VERIFIER_PASSWORD) for m in messages]
                for field, messages in refused.message_dict.items()
            }
        ) from refused
    if ended_at <= started_at:
        raise _gate("The session must end after it starts.", Code.TIME_ORDER, "ended_at")
    if ended_at > clock.now() + CLOCK_SKEW:
        raise _gate("The session cannot end in the future.", Code.TIME_ORDER, "ended_at")
    product = identity_check(
        plan=plan,
        scanned_product_code=scanned_product_code,
        scanned_mrn=scanned_mrn,
        now=clock.now(),
    )
    # The session starts after the product became usable (its release, or its thaw) and after
    # the consent in force was signed: no back-dating into a frozen or unconsented period.
    usable_since = (
        product.custody.filter(kind=CustodyEvent.Kind.STATUS, to_status=product.status)
        .order_by("-at", "-pk")
        .values_list("at", flat=True)
        .first()
    )
    consent = require_valid_consent(plan)
    for since, what in (
        (usable_since, f"the product was {product.get_status_display().lower()}"),
        (consent.signed_at, "the consent in force was signed"),
    ):
        if since is not None and started_at < since - CLOCK_SKEW:
            raise _gate(
                f"The session cannot start before {what} "
                f"({timezone.localtime(since):%d %b %Y %H:%M}).",
                Code.TIME_ORDER,
                "started_at",
            )
    if not zones:
        raise _gate("Record at least one injected zone.", Code.NO_ZONES, "zones")
    seen, rows = set(), []
    total_volume, total_cells = Decimal(0), 0
    for zone in zones:
        if zone["zone"] not in ScalpZone.values or zone["zone"] in seen:
            raise _gate(f"Unknown or repeated zone {zone['zone']!r}.", Code.INVALID_ZONE, "zones")
        seen.add(zone["zone"])
        row = InjectionZone(
            zone=zone["zone"],
            points=zone["points"],
            volume_per_point_ml=Decimal(str(zone["volume_per_point_ml"])),
            cells_per_point=zone["cells_per_point"],
        )
        row.full_clean(exclude=["session"])
        rows.append(row)
        total_volume += row.points * row.volume_per_point_ml
        total_cells += row.points * row.cells_per_point
    if product.volume_ml is None or total_volume > product.volume_ml:
        raise _gate(  # guard: volume
            f"The map injects {total_volume} mL but the product holds {product.volume_ml or 0} mL.",
            Code.OVER_VOLUME,
            "zones",
        )
    if product.viable_cells is None or total_cells > product.viable_cells:
        raise _gate(  # guard: cells
            f"The map injects {total_cells:,} cells but the product holds "
            f"{product.viable_cells or 0:,} viable cells.",
            Code.OVER_CELLS,
            "zones",
        )
    number = plan.sessions.count() + 1
    try:
        with transaction.atomic():
            session = TreatmentSession.objects.create(
                plan=plan,
                patient=plan.patient,
                product=product,
                appointment=appointment,
                session_number=number,
                started_at=started_at,
                ended_at=ended_at,
                performed_by=actor,
                verified_by=verifier,
                scanned_product_code=scanned_product_code.strip(),
                scanned_mrn=scanned_mrn.strip().upper(),
                adjuncts=adjuncts or [],
                total_volume_ml=total_volume,
                total_cells=total_cells,
                submission_token=submission_token,
                notes=notes,
            )
    except IntegrityError:
        raise _gate(
            "This session or product was already recorded; nothing changed.",
            Code.ALREADY_RECORDED,
        ) from None
    for row in rows:
        row.session = session
        row.save()
    signature_sign(
        actor=verifier, record=session, meaning=Signature.Meaning.VERIFY, password=verifier_password
    )
    residual = product.volume_ml - total_volume
    _transition(
        actor=actor,
        product=product,
        to=S.ADMINISTERED,
        reason=(
            f"Administered to {plan.patient.mrn} in session {number}: {total_volume} mL used"
            + (f", {residual} mL left unused and discarded" if residual > 0 else "")
        ),
        location="Session room",
    )
    if plan.status in (TreatmentPlan.Status.CONSENTED, TreatmentPlan.Status.AWAITING_CONSENT):
        plan.status = TreatmentPlan.Status.IN_TREATMENT
        plan.save(update_fields=["status"])
    if number == 1:
        visits_schedule(plan=plan, first_session_on=timezone.localtime(started_at).date())
    ScheduledVisit.objects.filter(
        plan=plan, kind=ScheduledVisit.Kind.REPEAT_SESSION, label=f"Session {number}"
    ).update(completed=True)
    return session
