"""The harvest: it issues the donation identifier and the specimen (product 01)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from anagen.clinic.accounts.access import require_site_access
from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import Perm, require
from anagen.clinic.common import clock
from anagen.identity import (
    make_donation_id,
)

from ..models import (
    DonationSequence,
    Harvest,
    TreatmentPlan,
)
from ._common import (
    CLOCK_SKEW,
    Code,
    _gate,
)
from .gates import require_eligible, require_valid_consent
from .lifecycle import _product_create


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
        raise _gate("The plan is closed.", Code.PLAN_CLOSED)
    if performed_at < consent.signed_at - CLOCK_SKEW:
        raise _gate(
            "The harvest cannot be before the consent in force was signed "
            f"({timezone.localtime(consent.signed_at):%d %b %Y %H:%M}).",
            Code.TIME_ORDER,
            "performed_at",
        )
    missing = [label for key, label in Harvest.STERILE_CHECKLIST if not sterile_checklist.get(key)]
    if missing:
        raise _gate(
            "Not confirmed: " + "; ".join(missing) + ".",
            Code.STERILE_CHECKLIST,
            "sterile_checklist",
        )
    if performed_at > clock.now() + CLOCK_SKEW:
        raise _gate("The harvest cannot be in the future.", Code.TIME_ORDER, "performed_at")
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
