"""Writes of the treatment pathway. Every rule that keeps the cells safe lives here.

* no plan, harvest or administration without a current eligibility decision of *candidate*
  (the engine's, or a physician's override with a written reason);
* no harvest and no administration without a valid, unwithdrawn consent for that plan;
* a harvest issues the donation identifier (ISO 7064 MOD 37-2 checked) and its first product;
* products move only along ``TRANSITIONS``; every move leaves a custody event and a history row;
* release needs a lab technician's password-confirmed signature, every release gate, and a
  second person: the releaser did not record the results (``ANAGEN_RELEASE_FOUR_EYES``);
* administration needs the product identifier AND the patient's MRN, the product must be this
  patient's own, released (or thawed after release), unexpired, never administered, the map
  must fit in the product (volume and viable cells), and a second member of staff must verify
  with their password.

Every refusal is a ``ValidationError`` with a ``code`` (``GateCode``) that pages, the API and the
tests read.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.passwords import (
    PasswordNotConfirmed,
    counts_password_failures,
    password_confirm,
)
from anagen.clinic.accounts.policy import Perm, allows, require, require_site_access, sites_for
from anagen.clinic.assessment.selectors import current_decision
from anagen.clinic.core.models import Signature
from anagen.clinic.core.signatures import current_signature, signature_sign
from anagen.clinic.patients.models import Patient
from anagen.identity import (
    InvalidIdentifier,
    make_donation_id,
    make_product_id,
    parse_donation_id,
    parse_product_id,
)

from .models import (
    MAX_CELLS_PER_POINT_WARNING,
    Adjunct,
    AdverseEvent,
    CellProduct,
    Consent,
    ConsentText,
    CustodyEvent,
    DonationSequence,
    Harvest,
    InjectionZone,
    ProtocolTemplate,
    ScalpZone,
    ScheduledVisit,
    TreatmentPlan,
    TreatmentSession,
)

S = CellProduct.Status
T = TypeVar("T")
TRANSITIONS: dict[str, set[str]] = {
    S.IN_PROCESSING: {S.QUARANTINE, S.DISCARDED, S.EXPIRED},
    S.QUARANTINE: {S.RELEASED, S.DISCARDED, S.EXPIRED},
    S.RELEASED: {S.ADMINISTERED, S.STORED, S.DISCARDED, S.EXPIRED},
    S.STORED: {S.THAWED, S.DISCARDED, S.EXPIRED},
    S.THAWED: {S.ADMINISTERED, S.STORED, S.DISCARDED, S.EXPIRED},  # back to cryo if unused
    S.ADMINISTERED: set(),
    S.DISCARDED: set(),
    S.EXPIRED: set(),
}
ADMINISTRABLE = (S.RELEASED, S.THAWED)
#: Clock tolerance for "not in the future" checks (device clocks drift a little).
CLOCK_SKEW = timedelta(minutes=5)
#: A thawed product is used within this many hours at most (validated thaw window).
MAX_THAW_WINDOW_HOURS = 24
#: Aliquots drawn in one step (each gets a label and a custody trail).
MAX_ALIQUOTS = 20


class Keep:
    """Type of ``KEEP``: "leave the recorded value as it is" (None would mean "clear it")."""


KEEP = Keep()


class GateCode:
    """Error codes of the treatment gates (``ValidationError.code``)."""

    NOT_ELIGIBLE = "not_eligible"
    NO_CONSENT = "no_consent"
    OVER_VOLUME = "over_volume"
    OVER_CELLS = "over_cells"
    EXPIRED = "expired"
    FOUR_EYES = "four_eyes"
    TIME_ORDER = "time_order"


def _gate(message: str, code: str, field: str | None = None) -> ValidationError:
    error = ValidationError(message, code=code)
    return ValidationError({field: error}) if field else error


def eligibility_refusal(patient: Patient) -> str | None:
    """Why the patient may not be treated now (None: their current decision is *candidate*).

    A physician's override with a written reason counts (``final_outcome``); the engine's own
    outcome stays on record beside it.
    """
    decision = current_decision(patient=patient)
    if decision is None:
        return "The patient has no eligibility decision yet: a physician must assess them first."
    if decision.final_outcome != "candidate":
        return (
            f"The current eligibility decision is \u201c{decision.final_outcome_label}\u201d: "
            "treatment needs \u201cCandidate\u201d, or a physician's override with a reason."
        )
    return None


def require_eligible(patient: Patient) -> None:
    """Refuse unless the patient's current eligibility decision is *candidate*."""
    refusal = eligibility_refusal(patient)
    if refusal:  # guard: eligibility
        raise _gate(refusal, GateCode.NOT_ELIGIBLE)


NO_CONSENT_MESSAGE = (
    "No valid consent for this plan (never signed, or withdrawn): nothing can be done until "
    "the patient signs again."
)


def require_valid_consent(plan: TreatmentPlan) -> Consent:
    """The plan's signed, unwithdrawn consent, or a refusal."""
    consent = valid_consent_for(plan)
    if consent is None:
        raise _gate(NO_CONSENT_MESSAGE, GateCode.NO_CONSENT)  # guard: consent
    return consent


def treatment_refusal(plan: TreatmentPlan) -> str | None:
    """Why nothing may be given under ``plan`` now (eligibility, then consent); None if it may."""
    if refusal := eligibility_refusal(plan.patient):
        return refusal
    return None if valid_consent_for(plan) else NO_CONSENT_MESSAGE


# --- plan and consent -------------------------------------------------------------------------


@transaction.atomic
def plan_create(
    *,
    actor: User,
    patient: Patient,
    protocol: ProtocolTemplate,
    method: str | None = None,
    adjuncts: list[str] | None = None,
    target_zones: list[str] | None = None,
    planned_sessions: int | None = None,
    interval_weeks: int | None = None,
    follow_up_days: list[int] | None = None,
    follow_up_window_days: list[int] | None = None,
    planned_dose_cells: int | None = None,
    price_min: Decimal | None = None,
    price_max: Decimal | None = None,
    currency: str | None = None,
) -> TreatmentPlan:
    """A treatment plan copied from the protocol template; fields may be adjusted per patient.

    A field left as None (or empty) keeps the protocol's value.
    """
    require(actor, Perm.PLAN_WRITE)
    require_site_access(user=actor, site_id=patient.site_id)
    require_eligible(patient)
    plan = TreatmentPlan(
        patient=patient,
        protocol=protocol,
        created_by=actor,
        method=_given(method, protocol.method),
        adjuncts=_given(adjuncts, protocol.adjuncts),
        target_zones=_given(target_zones, protocol.target_zones),
        planned_sessions=_given(planned_sessions, protocol.planned_sessions),
        interval_weeks=_given(interval_weeks, protocol.interval_weeks),
        follow_up_days=_given(follow_up_days, protocol.follow_up_days),
        follow_up_window_days=_given(follow_up_window_days, protocol.follow_up_window_days),
        planned_dose_cells=_given(planned_dose_cells, protocol.planned_dose_cells),
        price_min=_given(price_min, protocol.price_min),
        price_max=_given(price_max, protocol.price_max),
        currency=_given(currency, protocol.currency),
    )
    unknown_zones = set(plan.target_zones) - set(ScalpZone.values)
    if unknown_zones or not plan.target_zones:
        raise ValidationError({"target_zones": "Choose one or more scalp zones from the list."})
    if plan.price_min > plan.price_max:
        raise ValidationError({"price_max": "The upper price must not be below the lower."})
    if len(plan.follow_up_days) != len(plan.follow_up_window_days):
        raise ValidationError({"follow_up_days": "Give one window for each follow-up day."})
    plan.full_clean()
    plan.save()
    return plan


def _given(value: T | None, default: T) -> T:
    """``value`` unless it was left out (None or an empty text): then the protocol's ``default``."""
    return default if value is None or value == "" else value


def valid_consent_for(plan: TreatmentPlan) -> Consent | None:
    """The consent in force for ``plan``: its latest signature, unless withdrawn.

    A withdrawal ends the patient's consent to the plan whatever was signed before it; only a
    signature after the withdrawal restores it.
    """
    latest = plan.consents.order_by("-signed_at", "-pk").first()
    return latest if latest is not None and latest.withdrawn_at is None else None


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
        raise ValidationError({"agrees": "The patient must tick that they have read and agree."})
    if signer_name.casefold() != plan.patient.full_name.casefold():
        raise ValidationError(
            {"signer_name": "Type the patient's full name exactly as registered to sign."}
        )
    if not consent_text.active:
        raise ValidationError({"consent_text": "This consent version is no longer in use."})
    if plan.status == TreatmentPlan.Status.CANCELLED:
        raise ValidationError("The plan is cancelled.")
    signed_at = timezone.now()
    meaning = (
        f"I, {signer_name}, have read consent version {consent_text.version}, understand that "
        "this therapy is investigational, and agree to the treatment plan described."
    )
    html = render_to_string(
        "treatment/consent_snapshot.html",
        {
            "plan": plan,
            "patient": plan.patient,
            "text": consent_text,
            "paragraphs": [p.strip() for p in consent_text.body.split("\n\n") if p.strip()],
            "zones": [ScalpZone(z).label for z in plan.target_zones],
            "adjuncts": [Adjunct(a).label for a in plan.adjuncts],
            "signer_name": signer_name,
            "signed_at": signed_at,
            "meaning": meaning,
            "witness": actor,
            "clinic_name": settings.ANAGEN_CLINIC_NAME,
        },
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

    The first withdrawal's time and reason stay as recorded; withdrawing again is refused.
    """
    require(actor, Perm.CONSENT_WITNESS)
    require_site_access(user=actor, site_id=consent.plan.patient.site_id)
    if not reason.strip():
        raise ValidationError({"reason": "Record why consent was withdrawn."})
    in_force = list(
        Consent.objects.select_for_update().filter(plan=consent.plan, withdrawn_at__isnull=True)
    )
    if not in_force:
        raise ValidationError(
            "Consent to this plan is already withdrawn; the recorded withdrawal stays as it is.",
            code="already_withdrawn",
        )
    now = timezone.now()
    for signed in in_force:
        signed.withdrawn_at = now
        signed.withdrawal_reason = reason.strip()
        signed.save(update_fields=["withdrawn_at", "withdrawal_reason"])
    consent.refresh_from_db()
    return consent


# --- harvest and the chain of identity ---------------------------------------------------------


def _next_donation_code(facility: str, year: int) -> str:
    sequence, _ = DonationSequence.objects.select_for_update().get_or_create(
        facility=facility, year=year % 100
    )
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return make_donation_id(facility, year % 100, sequence.last).text


@transaction.atomic
def harvest_record(
    *,
    actor: User,
    plan: TreatmentPlan,
    performed_at: datetime,
    site: str,
    cannula_or_punch_mm: Decimal,
    volume_ml: Decimal,
    sterile_checklist: dict[str, bool],
    anaesthesia: str = "Local, tumescent lidocaine",
    notes: str = "",
) -> Harvest:
    """Record the harvest; it issues the donation identifier and the specimen (product 01)."""
    require(actor, Perm.HARVEST_RECORD)
    patient = plan.patient
    require_site_access(user=actor, site_id=patient.site_id)
    require_eligible(patient)
    consent = require_valid_consent(plan)
    if plan.status in (TreatmentPlan.Status.CANCELLED, TreatmentPlan.Status.COMPLETED):
        raise ValidationError("The plan is closed.")
    if performed_at < consent.signed_at - CLOCK_SKEW:
        raise _gate(
            "The harvest cannot be before the consent in force was signed "
            f"({timezone.localtime(consent.signed_at):%d %b %Y %H:%M}).",
            GateCode.TIME_ORDER,
            "performed_at",
        )
    missing = [label for key, label in Harvest.STERILE_CHECKLIST if not sterile_checklist.get(key)]
    if missing:
        raise ValidationError({"sterile_checklist": "Not confirmed: " + "; ".join(missing) + "."})
    if performed_at > timezone.now() + CLOCK_SKEW:
        raise _gate("The harvest cannot be in the future.", GateCode.TIME_ORDER, "performed_at")
    code = _next_donation_code(patient.site.facility_code, timezone.localtime(performed_at).year)
    harvest = Harvest(
        plan=plan,
        patient=patient,
        performed_at=performed_at,
        site=site,
        anaesthesia=anaesthesia,
        cannula_or_punch_mm=cannula_or_punch_mm,
        volume_ml=volume_ml,
        operator=actor,
        sterile_checklist={k: bool(sterile_checklist.get(k)) for k, _ in Harvest.STERILE_CHECKLIST},
        notes=notes,
        donation_code=code,
    )
    harvest.full_clean(exclude=["donation_code"])
    harvest.save()
    _product_create(actor=actor, harvest=harvest, started_at=performed_at)
    return harvest


def _product_create(
    *, actor: User, harvest: Harvest, started_at: datetime, parent=None
) -> CellProduct:
    number = (
        harvest.products.order_by("-product_number")
        .values_list("product_number", flat=True)
        .first()
        or 0
    ) + 1
    donation = parse_donation_id(harvest.donation_code)
    product = CellProduct.objects.create(
        harvest=harvest,
        patient=harvest.patient,
        parent=parent,
        product_number=number,
        product_code=make_product_id(donation, number).text,
        method=harvest.plan.method,
        processing_started_at=started_at,
        expires_at=started_at + timedelta(hours=harvest.plan.protocol.shelf_life_hours_fresh),
        qc_mycoplasma=(
            CellProduct.QC.PENDING
            if harvest.plan.method == "cultured_adsc"
            else CellProduct.QC.NOT_REQUIRED
        ),
    )
    _record_custody(
        actor=actor,
        product=product,
        kind=CustodyEvent.Kind.CREATED,
        location="Harvest room",
        reason=f"Specimen from harvest {harvest.donation_code}",
    )
    return product


# --- cell product ---------------------------------------------------------------------------


def _record_custody(
    *,
    actor: User,
    product: CellProduct,
    kind: str,
    reason: str,
    location: str = "",
    from_status: str = "",
) -> None:
    """Append one custody event describing ``product`` as it is now."""
    CustodyEvent.objects.create(
        product=product,
        kind=kind,
        actor=actor,
        from_status=from_status,
        to_status=product.status,
        location=location or product.location,
        reason=reason,
    )


def _transition(
    *, actor: User, product: CellProduct, to: str, reason: str, location: str = ""
) -> None:
    if to not in TRANSITIONS[product.status]:
        raise ValidationError(
            f"A product that is {product.get_status_display().lower()} cannot become "
            f"{CellProduct.Status(to).label.lower()}."
        )
    before = product.status
    product.status = to
    product._change_reason = reason[:100]  # type: ignore[attr-defined]  # read by simple_history
    product.save()
    _record_custody(
        actor=actor,
        product=product,
        kind=CustodyEvent.Kind.STATUS,
        from_status=before,
        location=location,
        reason=reason,
    )


def _lock(product: CellProduct) -> CellProduct:
    return (
        CellProduct.objects.select_for_update()
        .select_related("patient", "harvest__plan")
        .get(pk=product.pk)
    )


@transaction.atomic
def product_record_results(
    *,
    actor: User,
    product: CellProduct,
    processing_ended_at: datetime | Keep | None = KEEP,
    total_nucleated_cells: int | Keep | None = KEEP,
    viable_fraction: Decimal | Keep | None = KEEP,
    viable_cells: int | Keep | None = KEEP,
    volume_ml: Decimal | Keep | None = KEEP,
    qc_sterility: str | Keep = KEEP,
    qc_endotoxin: str | Keep = KEEP,
    qc_mycoplasma: str | Keep = KEEP,
    expires_at: datetime | Keep = KEEP,
) -> CellProduct:
    """Counts, viability, volume, QC and expiry from the lab; only before release.

    A result not given keeps its recorded value (results often arrive one at a time).
    """
    require(actor, Perm.PRODUCT_PROCESS)
    product = _lock(product)
    require_site_access(user=actor, site_id=product.patient.site_id)
    if product.status not in (S.IN_PROCESSING, S.QUARANTINE):
        raise ValidationError("Results can only change before release.")
    given = {
        "processing_ended_at": processing_ended_at,
        "total_nucleated_cells": total_nucleated_cells,
        "viable_fraction": viable_fraction,
        "viable_cells": viable_cells,
        "volume_ml": volume_ml,
        "qc_sterility": qc_sterility,
        "qc_endotoxin": qc_endotoxin,
        "qc_mycoplasma": qc_mycoplasma,
        "expires_at": expires_at,
    }
    for name, value in given.items():
        if value is not KEEP:
            setattr(product, name, value)
    if (
        product.viable_cells is None
        and product.total_nucleated_cells
        and product.viable_fraction is not None
    ):
        product.viable_cells = int(product.total_nucleated_cells * product.viable_fraction)
    if (
        product.viable_cells is not None
        and product.total_nucleated_cells is not None
        and product.viable_cells > product.total_nucleated_cells
    ):
        raise ValidationError({"viable_cells": "Viable cells cannot exceed total nucleated cells."})
    _check_processing_times(product)
    product.full_clean()
    product.save()
    _record_custody(
        actor=actor,
        product=product,
        kind=CustodyEvent.Kind.RESULTS,
        reason="Processing results recorded",
    )
    if product.status == S.IN_PROCESSING and product.processing_ended_at:
        _transition(actor=actor, product=product, to=S.QUARANTINE, reason="Processing finished")
    return product


@transaction.atomic
def product_split(
    *, actor: User, product: CellProduct, volumes_ml: list[Decimal]
) -> list[CellProduct]:
    """Draw aliquots from a product in quarantine (e.g. doses for later sessions, to cryo).

    Each aliquot is a product of its own with the next product number, ``parent`` pointing at
    the source, the same donation, patient and quality results, and cells in proportion to its
    volume. The source keeps the remainder; drawn to nothing, it is closed as discarded.
    """
    require(actor, Perm.PRODUCT_PROCESS)
    product = _lock(product)
    require_site_access(user=actor, site_id=product.patient.site_id)
    if product.status != S.QUARANTINE:
        raise ValidationError("Aliquots are drawn after processing, before release (quarantine).")
    if not product.volume_ml or product.viable_cells is None:
        raise ValidationError("Record the volume and cell counts before drawing aliquots.")
    volumes = [Decimal(v) for v in volumes_ml]
    if not volumes or any(v <= 0 for v in volumes):
        raise ValidationError({"volumes_ml": "Give one or more positive volumes."})
    if len(volumes) > MAX_ALIQUOTS:
        raise ValidationError({"volumes_ml": f"Draw at most {MAX_ALIQUOTS} aliquots at a time."})
    if sum(volumes) > product.volume_ml:
        raise ValidationError(
            {
                "volumes_ml": f"The aliquots need {sum(volumes)} mL; the product holds {product.volume_ml} mL."
            }
        )
    aliquots = []
    for volume in volumes:
        share = float(volume / product.volume_ml)
        child = _product_create(
            actor=actor,
            harvest=product.harvest,
            started_at=product.processing_started_at,
            parent=product,
        )
        for name in (
            "processing_ended_at",
            "viable_fraction",
            "qc_sterility",
            "qc_endotoxin",
            "qc_mycoplasma",
            "expires_at",
        ):
            setattr(child, name, getattr(product, name))
        child.total_nucleated_cells = int((product.total_nucleated_cells or 0) * share)
        child.viable_cells = int(product.viable_cells * share)
        child.volume_ml = volume
        child.save()
        _transition(
            actor=actor, product=child, to=S.QUARANTINE, reason=f"Aliquot of {product.product_code}"
        )
        aliquots.append(child)
    remaining = product.volume_ml - sum(volumes)
    drawn = sum(a.viable_cells or 0 for a in aliquots)
    product.viable_cells -= drawn
    product.total_nucleated_cells = max(
        0,
        (product.total_nucleated_cells or 0) - sum(a.total_nucleated_cells or 0 for a in aliquots),
    )
    product.volume_ml = remaining if remaining > 0 else product.volume_ml
    product.save()
    _record_custody(
        actor=actor,
        product=product,
        kind=CustodyEvent.Kind.RESULTS,
        reason=f"{len(aliquots)} aliquot(s) drawn: " + ", ".join(a.product_code for a in aliquots),
    )
    if remaining <= 0:
        _transition(
            actor=actor, product=product, to=S.DISCARDED, reason="Fully divided into aliquots"
        )
    return aliquots


def _check_processing_times(product: CellProduct) -> None:
    """Processing starts at or after the harvest and ends after it starts, before expiry."""
    if product.processing_started_at < product.harvest.performed_at:
        raise _gate(
            "Processing cannot start before the harvest.",
            GateCode.TIME_ORDER,
            "processing_ended_at",
        )
    ended = product.processing_ended_at
    if ended is None:
        return
    if ended < product.processing_started_at:
        raise _gate(
            "Processing cannot end before it started.", GateCode.TIME_ORDER, "processing_ended_at"
        )
    if ended > timezone.now() + CLOCK_SKEW:
        raise _gate(
            "Processing cannot end in the future.", GateCode.TIME_ORDER, "processing_ended_at"
        )
    if ended > product.expires_at:
        raise _gate(
            "Processing ended after the product's expiry: the product cannot be used.",
            GateCode.EXPIRED,
            "processing_ended_at",
        )


def results_recorded_by(product: CellProduct) -> set[int]:
    """Ids of the staff who recorded results for this product or the product it was drawn from."""
    ids: set[int] = set()
    current: CellProduct | None = product
    while current is not None:
        ids.update(
            current.custody.filter(kind=CustodyEvent.Kind.RESULTS).values_list(
                "actor_id", flat=True
            )
        )
        current = current.parent
    return ids


def four_eyes_refusal(*, actor: User, product: CellProduct) -> str | None:
    """Why ``actor`` may not release ``product`` under the four-eyes rule (None: they may)."""
    if settings.ANAGEN_RELEASE_FOUR_EYES and actor.pk in results_recorded_by(product):
        return (
            "A second lab technician must release: you recorded this product's results. Ask "
            "another lab technician to review and release it."
        )
    return None


def release_gates(
    product: CellProduct, *, now: datetime | None = None
) -> list[tuple[str, bool, str]]:
    """Every release criterion as (name, passed, detail); release needs all of them."""
    now = now or timezone.now()
    plan = product.harvest.plan
    minimum = plan.protocol.min_viable_fraction
    qc = [product.qc_sterility, product.qc_endotoxin, product.qc_mycoplasma]
    return [
        ("processing finished", product.processing_ended_at is not None, "end time recorded"),
        (
            "processed before expiry",
            product.processing_ended_at is not None
            and product.processing_ended_at <= product.expires_at,
            "processing ended before the expiry time",
        ),
        ("volume recorded", bool(product.volume_ml), f"{product.volume_ml or 0} mL"),
        (
            "viability",
            product.viable_fraction is not None and product.viable_fraction >= minimum,
            f"{product.viable_fraction or 0:.1%} (needs ≥ {minimum:.0%})",
        ),
        (
            "dose",
            (product.viable_cells or 0) >= plan.planned_dose_cells,
            f"{product.viable_cells or 0:,} viable cells (plan needs {plan.planned_dose_cells:,})",
        ),
        (
            "within expiry",
            product.expires_at > now,
            f"expires {timezone.localtime(product.expires_at):%d %b %Y %H:%M}",
        ),
        ("QC not failed", CellProduct.QC.FAIL not in qc, "sterility, endotoxin, mycoplasma"),
        (
            "mycoplasma (cultured products)",
            product.method != "cultured_adsc" or product.qc_mycoplasma == CellProduct.QC.PASS,
            "must pass for culture-expanded products"
            if product.method == "cultured_adsc"
            else "not applicable to uncultured SVF",
        ),
    ]


@counts_password_failures
@transaction.atomic
def product_release(*, actor: User, product: CellProduct, password: str) -> CellProduct:
    require(actor, Perm.PRODUCT_RELEASE)
    product = _lock(product)
    require_site_access(user=actor, site_id=product.patient.site_id)
    if product.status != S.QUARANTINE:
        raise ValidationError("Only a product in quarantine can be released.")
    refusal = four_eyes_refusal(actor=actor, product=product)
    if refusal:  # guard: four-eyes
        raise _gate(refusal, GateCode.FOUR_EYES)
    failed = [f"{name} ({detail})" for name, ok, detail in release_gates(product) if not ok]
    if failed:
        raise ValidationError("Release refused: " + "; ".join(failed) + ".")
    _transition(actor=actor, product=product, to=S.RELEASED, reason="Released: all gates passed")
    signature_sign(
        actor=actor, record=product, meaning=Signature.Meaning.RELEASE, password=password
    )
    return product


@transaction.atomic
def product_store(
    *,
    actor: User,
    product: CellProduct,
    freezer: str,
    rack: str,
    box: str,
    position: str,
    expires_at: datetime,
) -> CellProduct:
    """Cryopreserve a released product at a freezer position (the release signature carries over)."""
    require(actor, Perm.PRODUCT_STORE)
    product = _lock(product)
    require_site_access(user=actor, site_id=product.patient.site_id)
    if not all(x.strip() for x in (freezer, rack, box, position)):
        raise ValidationError("Give freezer, rack, box and position.")
    if expires_at <= timezone.now():  # guard: expiry-store
        raise _gate("The storage expiry must be in the future.", GateCode.EXPIRED, "expires_at")
    if product.expires_at <= timezone.now():
        # Freezing does not bring an expired product back: it stays expired.
        raise _gate("The product has expired: it cannot be cryopreserved.", GateCode.EXPIRED)
    if (
        CellProduct.objects.filter(
            freezer=freezer, rack=rack, box=box, position=position, status=S.STORED
        )
        .exclude(pk=product.pk)
        .exists()
    ):
        raise ValidationError({"position": "That freezer position is occupied."})
    _transition(actor=actor, product=product, to=S.STORED, reason="Cryopreserved")
    product.storage = CellProduct.Storage.CRYO
    product.freezer, product.rack, product.box, product.position = freezer, rack, box, position
    product.expires_at = expires_at
    product.save()
    _record_custody(
        actor=actor, product=product, kind=CustodyEvent.Kind.LOCATION, reason="Placed in storage"
    )
    return product


@transaction.atomic
def product_thaw(*, actor: User, product: CellProduct, use_within_hours: int = 4) -> CellProduct:
    require(actor, Perm.PRODUCT_STORE)
    product = _lock(product)
    require_site_access(user=actor, site_id=product.patient.site_id)
    if not 1 <= use_within_hours <= MAX_THAW_WINDOW_HOURS:
        raise ValidationError(
            {
                "use_within_hours": f"Give 1 to {MAX_THAW_WINDOW_HOURS} hours to use the thawed cells."
            }
        )
    if product.expires_at <= timezone.now():  # guard: expiry-thaw
        raise _gate("The product has expired: it cannot be thawed for use.", GateCode.EXPIRED)
    _transition(actor=actor, product=product, to=S.THAWED, reason="Thawed for administration")
    product.expires_at = min(product.expires_at, timezone.now() + timedelta(hours=use_within_hours))
    product.save()
    return product


@transaction.atomic
def product_discard(*, actor: User, product: CellProduct, reason: str) -> CellProduct:
    require(actor, Perm.PRODUCT_DISCARD)
    product = _lock(product)
    require_site_access(user=actor, site_id=product.patient.site_id)
    if not reason.strip():
        raise ValidationError({"reason": "Record why the product is discarded."})
    _transition(actor=actor, product=product, to=S.DISCARDED, reason=reason.strip())
    return product


def products_expire_due(*, actor: User, now: datetime | None = None) -> int:
    """Mark every product of the lab technician's sites past its expiry as expired."""
    require(actor, Perm.PRODUCT_EXPIRE_SWEEP)
    due = CellProduct.objects.filter(
        expires_at__lte=now or timezone.now(),
        status__in=[s for s, nxt in TRANSITIONS.items() if S.EXPIRED in nxt],
        patient__site__in=sites_for(user=actor),
    )
    count = 0
    for product in due:
        with transaction.atomic():
            _transition(actor=actor, product=_lock(product), to=S.EXPIRED, reason="Past expiry")
        count += 1
    return count


def product_label_printed(*, actor: User, product: CellProduct) -> None:
    require(actor, Perm.PRODUCT_PROCESS)
    require_site_access(user=actor, site_id=product.patient.site_id)
    _record_custody(
        actor=actor, product=product, kind=CustodyEvent.Kind.LABEL, reason="Label printed"
    )


@transaction.atomic
def product_handover(
    *, actor: User, product: CellProduct, to_user: User, location: str, reason: str = ""
) -> None:
    require(actor, Perm.PRODUCT_PROCESS)
    require_site_access(user=actor, site_id=product.patient.site_id)
    _record_custody(
        actor=actor,
        product=product,
        kind=CustodyEvent.Kind.HANDOVER,
        location=location,
        reason=f"Handed to {to_user.display_name}. {reason}".strip(),
    )


# --- administration session ---------------------------------------------------------------


class IdentityCheckFailed(ValidationError):
    """The product and the patient in front of the clinician do not match."""


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
            {"scanned_product_code": f"Not a valid product identifier: {exc}"}
        ) from None
    product = (
        CellProduct.objects.select_for_update()
        .select_related("patient", "harvest__plan__protocol")
        .filter(product_code=product_id.text)
        .first()
    )
    if product is None:
        raise IdentityCheckFailed(
            {"scanned_product_code": "No product with this identifier exists."}
        )
    patient = plan.patient
    if scanned_mrn.strip().upper() != patient.mrn:  # guard: mrn
        raise IdentityCheckFailed({"scanned_mrn": "The MRN does not match this patient's chart."})
    if product.patient_id != patient.pk or product.harvest.patient_id != patient.pk:
        raise IdentityCheckFailed(  # guard: patient
            {"scanned_product_code": "STOP: this product belongs to another patient."}
        )
    if product.status == S.ADMINISTERED:
        raise IdentityCheckFailed(
            {"scanned_product_code": "This product has already been administered."}
        )
    if product.status not in ADMINISTRABLE:
        raise IdentityCheckFailed(
            {
                "scanned_product_code": f"The product is {product.get_status_display().lower()}, not released."
            }
        )
    if product.expires_at <= now:  # guard: expiry
        raise IdentityCheckFailed({"scanned_product_code": "The product has expired."})
    if current_signature(product, Signature.Meaning.RELEASE) is None:
        raise IdentityCheckFailed(
            {"scanned_product_code": "The release signature no longer matches the product record."}
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
    zones: list[dict],
    started_at: datetime,
    ended_at: datetime,
    submission_token: str,
    adjuncts: list[str] | None = None,
    appointment=None,
    notes: str = "",
) -> TreatmentSession:
    """Administer a product to its own patient after the two-person identity check."""
    require(actor, Perm.SESSION_ADMINISTER)
    require_site_access(user=actor, site_id=plan.patient.site_id)
    if not submission_token:
        raise ValidationError("Missing submission token.")
    if TreatmentSession.objects.filter(submission_token=submission_token).exists():
        raise ValidationError(  # guard: replay
            "This session was already recorded (double submission); nothing changed."
        )
    if verifier.pk == actor.pk:  # guard: verifier-not-administrator
        raise IdentityCheckFailed({"verifier": "A second person must verify: choose someone else."})
    if not allows(verifier, Perm.SESSION_VERIFY):  # guard: verifier-role
        raise IdentityCheckFailed({"verifier": "The verifier must be a physician or nurse."})
    try:  # counts towards the verifier's login lockout (accounts.passwords)
        password_confirm(
            verifier, verifier_password, purpose="the verification", field="verifier_password"
        )
    except PasswordNotConfirmed as refused:
        raise IdentityCheckFailed(refused.message_dict) from refused  # guard: verifier-password
    if ended_at <= started_at:
        raise _gate("The session must end after it starts.", GateCode.TIME_ORDER, "ended_at")
    if ended_at > timezone.now() + CLOCK_SKEW:
        raise _gate("The session cannot end in the future.", GateCode.TIME_ORDER, "ended_at")
    product = identity_check(
        plan=plan,
        scanned_product_code=scanned_product_code,
        scanned_mrn=scanned_mrn,
        now=timezone.now(),
    )
    released = current_signature(product, Signature.Meaning.RELEASE)
    assert released is not None  # identity_check refused a product without a current release
    if started_at < released.signed_at - CLOCK_SKEW:
        raise _gate(
            "The session cannot start before the product was released "
            f"({timezone.localtime(released.signed_at):%d %b %Y %H:%M}).",
            GateCode.TIME_ORDER,
            "started_at",
        )
    if not zones:
        raise ValidationError({"zones": "Record at least one injected zone."})
    seen, rows = set(), []
    total_volume, total_cells = Decimal(0), 0
    for zone in zones:
        if zone["zone"] not in ScalpZone.values or zone["zone"] in seen:
            raise ValidationError({"zones": f"Unknown or repeated zone {zone['zone']!r}."})
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
            GateCode.OVER_VOLUME,
            "zones",
        )
    if product.viable_cells is None or total_cells > product.viable_cells:
        raise _gate(  # guard: cells
            f"The map injects {total_cells:,} cells but the product holds "
            f"{product.viable_cells or 0:,} viable cells.",
            GateCode.OVER_CELLS,
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
        raise ValidationError(
            "This session or product was already recorded; nothing changed."
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


def cells_per_point_warning(cells_per_point: int) -> str | None:
    if cells_per_point > MAX_CELLS_PER_POINT_WARNING:
        return f"{cells_per_point:,} cells per point is above the usual {MAX_CELLS_PER_POINT_WARNING:,}."
    return None


def dose_warning(*, plan: TreatmentPlan, total_cells: int) -> str | None:
    """A warning (not a refusal) when a session injects more cells than the plan's dose."""
    if total_cells > plan.planned_dose_cells:
        return (
            f"{total_cells:,} cells is above the planned dose of {plan.planned_dose_cells:,} "
            "cells per session."
        )
    return None


# --- follow-up schedule --------------------------------------------------------------------


def visits_schedule(*, plan: TreatmentPlan, first_session_on: date) -> list[ScheduledVisit]:
    """Repeat sessions every ``interval_weeks`` and follow-ups at the protocol's days (idempotent)."""
    visits = []
    for n in range(2, plan.planned_sessions + 1):
        due = first_session_on + timedelta(weeks=plan.interval_weeks * (n - 1))
        visits.append((ScheduledVisit.Kind.REPEAT_SESSION, f"Session {n}", due, 7))
    for day, window in zip(plan.follow_up_days, plan.follow_up_window_days, strict=True):
        visits.append(
            (
                ScheduledVisit.Kind.FOLLOW_UP,
                f"Day {day}",
                first_session_on + timedelta(days=day),
                window,
            )
        )
    created = []
    for kind, label, due, window in visits:
        visit, _ = ScheduledVisit.objects.get_or_create(
            plan=plan,
            kind=kind,
            label=label,
            defaults={
                "patient": plan.patient,
                "due_on": due,
                "window_start": due - timedelta(days=window),
                "window_end": due + timedelta(days=window),
            },
        )
        created.append(visit)
    return created


# --- adverse events -------------------------------------------------------------------------


@transaction.atomic
def adverse_event_report(
    *,
    actor: User,
    patient: Patient,
    type: str,
    site: str,
    grade: int,
    onset_on: date,
    relatedness: str,
    description: str = "",
    resolved_on: date | None = None,
    action_taken: str = "",
    session: TreatmentSession | None = None,
    harvest: Harvest | None = None,
) -> AdverseEvent:
    """Report an adverse event, linked to at most one session or harvest of this patient."""
    require(actor, Perm.ADVERSE_EVENT_REPORT)
    require_site_access(user=actor, site_id=patient.site_id)
    if session is not None and harvest is not None:
        raise ValidationError({"harvest": "Link the event to a session or a harvest, not both."})
    event = AdverseEvent(
        patient=patient,
        reported_by=actor,
        type=type,
        site=site,
        grade=grade,
        onset_on=onset_on,
        relatedness=relatedness,
        description=description,
        resolved_on=resolved_on,
        action_taken=action_taken,
        session=session,
        harvest=harvest,
    )
    if session is not None and session.patient_id != patient.pk:
        raise ValidationError({"session": "That session belongs to another patient."})
    if harvest is not None and harvest.patient_id != patient.pk:
        raise ValidationError({"harvest": "That harvest belongs to another patient."})
    if onset_on > timezone.localdate():
        raise ValidationError({"onset_on": "The onset cannot be in the future."})
    linked = session.started_at if session else harvest.performed_at if harvest else None
    if linked is not None and onset_on < timezone.localtime(linked).date():
        raise _gate(
            "The onset cannot be before the session or harvest it is linked to.",
            GateCode.TIME_ORDER,
            "onset_on",
        )
    if event.resolved_on and event.resolved_on < event.onset_on:
        raise ValidationError({"resolved_on": "Resolution cannot come before onset."})
    event.full_clean()
    event.save()
    return event
