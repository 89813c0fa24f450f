"""Reads for patients' data rights: every record about one patient, across the apps.

A model belongs to a patient through the same rule the audit trail uses: the patient itself,
a model's ``audit_patient_path`` (e.g. ``"visit__patient"``) or a field named ``patient``.
History tables are not part of the export (the export is the record as it stands; the audit
trail is shown to staff on its own page); the call-back notes of the patient's inquiries are.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import QuerySet

from anagen.clinic.intake.models import InquiryNote, ReminderSent
from anagen.clinic.patients.models import Patient

#: Field names never exported (internal secrets and integrity digests of other records).
SECRET_PARTS = ("token", "digest", "password", "secret")


#: Rows about a patient that the audit trail does not follow (no history of their own).
EXTRA_PATHS: dict[type[models.Model], str] = {
    InquiryNote: "inquiry__patient",
    ReminderSent: "appointment__patient",
}


@dataclass(frozen=True)
class PatientModel:
    """A model with rows about one patient and the path from its rows to the patient."""

    model: type[models.Model]
    path: str  # "" for Patient itself

    def rows(self, patient: Patient) -> QuerySet[Any]:
        manager = self.model._default_manager
        if not self.path:
            return manager.filter(pk=patient.pk)
        return manager.filter(**{self.path: patient}).distinct()


def _is_history(model: type[models.Model]) -> bool:
    names = {f.name for f in model._meta.concrete_fields}
    return bool({"history_id", "m2m_history_id"} & names)


def _patient_path(model: type[models.Model]) -> str | None:
    if model is Patient:
        return ""
    if model in EXTRA_PATHS:
        return EXTRA_PATHS[model]
    path = getattr(model, "audit_patient_path", None)
    if path:
        return str(path)
    for field in model._meta.concrete_fields:
        if field.name == "patient" and field.related_model is Patient:
            return "patient"
    return None


def patient_models() -> list[PatientModel]:
    """Every clinic model whose rows belong to one patient, the patient first."""
    found = []
    for model in apps.get_models():
        if not model.__module__.startswith("anagen.clinic.") or _is_history(model):
            continue
        path = _patient_path(model)
        if path is not None:
            found.append(PatientModel(model, path))
    return sorted(found, key=lambda m: (m.path != "", m.model._meta.label))


def exported_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [
        f for f in model._meta.concrete_fields if not any(part in f.name for part in SECRET_PARTS)
    ]


def file_fields(model: type[models.Model]) -> list[models.FileField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]


def patient_rows(patient: Patient) -> Iterator[tuple[PatientModel, models.Model]]:
    """(model, row) for every row about ``patient``, model by model, rows by primary key."""
    for entry in patient_models():
        for row in entry.rows(patient).order_by("pk"):
            yield entry, row
