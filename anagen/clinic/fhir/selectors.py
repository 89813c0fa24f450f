"""The records behind each FHIR resource type, scoped to the sites the reader works at.

Patients come through ``patients.selectors.patients_visible_to``; every other record is the
records of those patients (a record of another site is never found: a 404, as on the pages).
``patient_ids`` narrows to some patients (``?patient=``, ``$everything``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q, QuerySet

from anagen.clinic.accounts.access import sites_for
from anagen.clinic.accounts.models import Site, User
from anagen.clinic.assessment.models import Assessment
from anagen.clinic.audit.selectors import AuditEntry, patient_audit_trail
from anagen.clinic.imaging.models import TrichoscopyImage
from anagen.clinic.intake.models import Appointment
from anagen.clinic.patients.models import Patient
from anagen.clinic.patients.selectors import patients_visible_to
from anagen.clinic.treatment.models import (
    AdverseEvent,
    CellProduct,
    Consent,
    Harvest,
    TreatmentPlan,
    TreatmentSession,
)

PatientIds = Sequence[int] | None


def _narrow(rows: QuerySet[Any], path: str, patient_ids: PatientIds) -> QuerySet[Any]:
    if patient_ids is not None:
        rows = rows.filter(**{f"{path}__in": list(patient_ids)})
    return rows


def patients(*, user: User, patient_ids: PatientIds = None) -> QuerySet[Patient]:
    return _narrow(patients_visible_to(user=user), "pk", patient_ids).order_by("pk")


def _of_patients(
    model: type[Any], path: str, *, user: User, patient_ids: PatientIds
) -> QuerySet[Any]:
    site_path = path.removesuffix("_id") + "__site__in"
    rows = model.objects.filter(**{site_path: sites_for(user=user)})
    return _narrow(rows, path, patient_ids).order_by("pk")


def sites(*, user: User) -> QuerySet[Site]:
    return sites_for(user=user).order_by("pk")


def staff(*, user: User) -> QuerySet[User]:
    """Staff at the reader's sites (and network-wide staff): the Practitioners it may read."""
    rows = User.objects.filter(Q(sites__in=sites_for(user=user)) | Q(all_sites=True))
    return User.objects.filter(pk__in=rows.values("pk")).order_by("pk")


def assessments(*, user: User, patient_ids: PatientIds = None) -> QuerySet[Assessment]:
    return _of_patients(
        Assessment, "patient_id", user=user, patient_ids=patient_ids
    ).select_related("patient", "assessed_by")


def appointments(*, user: User, patient_ids: PatientIds = None) -> QuerySet[Appointment]:
    return _of_patients(
        Appointment, "patient_id", user=user, patient_ids=patient_ids
    ).select_related("patient", "clinician")


def plans(*, user: User, patient_ids: PatientIds = None) -> QuerySet[TreatmentPlan]:
    return (
        _of_patients(TreatmentPlan, "patient_id", user=user, patient_ids=patient_ids)
        .select_related("patient", "protocol", "created_by")
        .prefetch_related("sessions", "scheduled_visits")
    )


def consents(*, user: User, patient_ids: PatientIds = None) -> QuerySet[Consent]:
    return _of_patients(
        Consent, "plan__patient_id", user=user, patient_ids=patient_ids
    ).select_related("plan__patient", "consent_text", "witnessed_by")


def harvests(*, user: User, patient_ids: PatientIds = None) -> QuerySet[Harvest]:
    return _of_patients(Harvest, "patient_id", user=user, patient_ids=patient_ids).select_related(
        "patient", "operator"
    )


def products(*, user: User, patient_ids: PatientIds = None) -> QuerySet[CellProduct]:
    return _of_patients(
        CellProduct, "patient_id", user=user, patient_ids=patient_ids
    ).select_related("patient", "harvest__operator")


def sessions(*, user: User, patient_ids: PatientIds = None) -> QuerySet[TreatmentSession]:
    return (
        _of_patients(TreatmentSession, "patient_id", user=user, patient_ids=patient_ids)
        .select_related("patient", "product", "performed_by", "verified_by")
        .prefetch_related("zones")
    )


def adverse_events(*, user: User, patient_ids: PatientIds = None) -> QuerySet[AdverseEvent]:
    return _of_patients(
        AdverseEvent, "patient_id", user=user, patient_ids=patient_ids
    ).select_related("patient", "reported_by")


def trichoscopy(*, user: User, patient_ids: PatientIds = None) -> QuerySet[TrichoscopyImage]:
    return _of_patients(
        TrichoscopyImage, "visit__patient_id", user=user, patient_ids=patient_ids
    ).select_related("visit__patient", "target_site", "device", "uploaded_by")


def audit_trail(*, patient: Patient) -> list[AuditEntry]:
    """The patient's audit trail (``patient`` already scoped by ``patients``)."""
    return patient_audit_trail(patient=patient)
