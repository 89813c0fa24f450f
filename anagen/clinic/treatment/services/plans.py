"""Treatment plans, copied from a protocol template and adjusted per patient."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from anagen.clinic.accounts.access import require_site_access
from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import Perm, require
from anagen.clinic.common.scalp import ScalpZone
from anagen.clinic.patients.models import Patient

from ..models import (
    ProtocolTemplate,
    TreatmentPlan,
)
from ._common import (
    Code,
    _gate,
    _given,
)
from .gates import require_eligible


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
) -> TreatmentPlan:
    """A treatment plan copied from the protocol template; fields may be adjusted per patient.

    A field left as None (or empty) keeps the protocol's value.
    """
    require(actor, Perm.PLAN_WRITE)
    require_site_access(user=actor, site_id=patient.site_id)
    require_eligible(patient)
    # The quote is in the currency of the patient's site; the protocol's prices are copied
    # only when they are in that currency (a London patient is never quoted in euros).
    currency = patient.site.currency
    if protocol.currency != currency and (price_min is None or price_max is None):
        raise _gate(
            f"Enter the quote in {currency}: this protocol's prices are in {protocol.currency}.",
            Code.PRICE_CURRENCY,
            "price_min",
        )
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
        currency=currency,
    )
    unknown_zones = set(plan.target_zones) - set(ScalpZone.values)
    if unknown_zones or not plan.target_zones:
        raise _gate(
            "Choose one or more scalp zones from the list.", Code.INVALID_ZONES, "target_zones"
        )
    if plan.price_min < 0:  # the form says so too; the service is the rule
        raise _gate("A quote cannot be negative.", Code.PRICE_RANGE, "price_min")
    if plan.price_min > plan.price_max:
        raise _gate("The upper price must not be below the lower.", Code.PRICE_RANGE, "price_max")
    if len(plan.follow_up_days) != len(plan.follow_up_window_days):
        raise _gate(
            "Give one window for each follow-up day.", Code.FOLLOW_UP_WINDOWS, "follow_up_days"
        )
    plan.full_clean()
    plan.save()
    return plan
