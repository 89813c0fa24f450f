"""Adverse events, linked to at most one session or harvest of the patient."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from anagen.clinic.accounts.access import require_site_access
from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import Perm, require
from anagen.clinic.common import clock
from anagen.clinic.patients.models import Patient

from ..models import (
    AdverseEvent,
    Harvest,
    TreatmentSession,
)
from ._common import (
    Code,
    _gate,
)


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
        raise _gate(
            "Link the event to a session or a harvest, not both.", Code.LINK_CONFLICT, "harvest"
        )
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
        raise _gate("That session belongs to another patient.", Code.WRONG_PATIENT, "session")
    if harvest is not None and harvest.patient_id != patient.pk:
        raise _gate("That harvest belongs to another patient.", Code.WRONG_PATIENT, "harvest")
    if onset_on > clock.localdate():
        raise _gate("The onset cannot be in the future.", Code.TIME_ORDER, "onset_on")
    linked = session.started_at if session else harvest.performed_at if harvest else None
    if linked is not None and onset_on < timezone.localtime(linked).date():
        raise _gate(
            "The onset cannot be before the session or harvest it is linked to.",
            Code.TIME_ORDER,
            "onset_on",
        )
    if event.resolved_on and event.resolved_on < event.onset_on:
        raise _gate("Resolution cannot come before onset.", Code.TIME_ORDER, "resolved_on")
    event.full_clean()
    event.save()
    return event
