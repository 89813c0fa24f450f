"""Patients' data rights: export all of one patient's data; erase (pseudonymize) on request.

Both are the privacy officer's (``Perm.PATIENT_DATA_EXPORT``, ``Perm.PATIENT_ERASE``: the
administrator role) for patients of the sites they work at, and both leave a ``PrivacyEvent``
(who, when, why) that the database keeps append-only. docs/privacy.md has the policy.

Erasure keeps every clinical and registry record and replaces what identifies the person:

* the patient: names → "Erased" / "patient <pseudonym>", date of birth → 1 January of the
  same year, phone, e-mail and address emptied, MRN → the pseudonym, identity photo deleted;
* their inquiries (name, phone, e-mail, best time, message) and the call-back notes on them;
* the signer's name on their consents;
* photographs that can show the face (global photos: front, left, right) are deleted; the
  other photos, trichoscopy images, overlays and consent PDFs are kept under neutral file
  names (an uploaded file's name may carry the person's name);
* the same fields in every earlier version of those records (django-simple-history rows,
  otherwise append-only): rewritten in the same transaction, with the count of rows per table
  recorded in the erasure's ``PrivacyEvent``.

Free-text clinical notes (assessments, sessions, adverse events) are clinical content under the
record-keeping duty and are not rewritten; the erasure page says so before it is confirmed.
"""

from __future__ import annotations

import json
import secrets
import zipfile
from datetime import date
from pathlib import PurePosixPath
from typing import IO, Any

from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Replace
from simple_history.utils import get_history_model_for_model

from anagen.clinic.accounts.access import require_site_access
from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import Perm, require
from anagen.clinic.api.models import IdempotentResponse
from anagen.clinic.common import clock
from anagen.clinic.common.append_only import history_rewrite
from anagen.clinic.imaging.models import GlobalPhoto
from anagen.clinic.intake.models import Inquiry, InquiryNote
from anagen.clinic.patients.models import Patient
from anagen.clinic.treatment.models import Consent

from .error_codes import PrivacyErrorCode as Code
from .error_codes import refusal
from .models import PrivacyEvent
from .selectors import exported_fields, file_fields, patient_models, patient_rows

#: The export's format version (docs/privacy.md describes the layout).
EXPORT_FORMAT = "anagen-patient-export/1"
#: Global photo views that can show the face: deleted on erasure.
FACE_VIEWS = frozenset({GlobalPhoto.View.FRONT, GlobalPhoto.View.LEFT, GlobalPhoto.View.RIGHT})
ERASED_NOTE = "[removed on erasure at the patient's request]"


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise refusal(
            "Say why (e.g. the patient's written request and its date).",
            Code.REASON_REQUIRED,
            "reason",
        )
    return reason


# --- export ---------------------------------------------------------------------------------


def _value(row: models.Model, field: models.Field[Any, Any]) -> Any:
    value = field.value_from_object(row)
    return str(value) if isinstance(value, PurePosixPath) else value


def patient_data_export(
    *, actor: User, patient: Patient, reason: str, out: IO[bytes]
) -> PrivacyEvent:
    """Write a zip of all of ``patient``'s data to ``out``: ``data.json`` and ``files/``.

    ``data.json`` holds every record about the patient (one list per kind of record, each row
    with its fields, links as ids); each stored file is in ``files/`` and named in its row.
    """
    require(actor, Perm.PATIENT_DATA_EXPORT)
    require_site_access(user=actor, site_id=patient.site_id)
    reason = _require_reason(reason)
    records: dict[str, list[dict[str, Any]]] = {}
    counts: dict[str, int] = {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for entry, row in patient_rows(patient):
            label = entry.model._meta.label
            fields: dict[str, Any] = {}
            for field in exported_fields(entry.model):
                if isinstance(field, models.FileField):
                    stored = getattr(row, field.attname)
                    if not stored:
                        fields[field.name] = None
                        continue
                    suffix = PurePosixPath(stored.name).suffix.lower()
                    name = f"files/{label}/{row.pk}-{field.name}{suffix}"
                    try:
                        with stored.open("rb") as handle:
                            archive.writestr(name, handle.read())
                    except FileNotFoundError:
                        name = f"(missing from storage: {label} {row.pk} {field.name})"
                    fields[field.name] = name
                else:
                    fields[field.attname] = _value(row, field)
            records.setdefault(label, []).append({"id": row.pk, "fields": fields})
            counts[label] = counts.get(label, 0) + 1
        document = {
            "format": EXPORT_FORMAT,
            "exported_at": clock.now(),
            "patient_mrn": patient.mrn,
            "records": records,
        }
        archive.writestr("data.json", json.dumps(document, cls=DjangoJSONEncoder, indent=1))
    return PrivacyEvent.objects.create(
        kind=PrivacyEvent.Kind.EXPORT,
        patient=patient,
        actor=actor,
        reason=reason,
        summary={"records": counts},
    )


# --- erasure --------------------------------------------------------------------------------


def _new_pseudonym() -> str:
    while True:
        pseudonym = "X" + secrets.token_hex(5).upper()
        if not Patient.objects.filter(mrn=pseudonym).exists():
            return pseudonym


def _identifying_values(
    patient: Patient, pseudonym: str
) -> dict[type[models.Model], dict[str, Any]]:
    """Per model, the replacement of each identifying field."""
    return {
        Patient: {
            "given_name": "Erased",
            "family_name": f"patient {pseudonym}",
            "date_of_birth": date(patient.date_of_birth.year, 1, 1),
            "phone": "",
            "email": "",
            "address": "",
            "mrn": pseudonym,
            "photo": "",
        },
        Inquiry: {
            "full_name": f"Erased patient {pseudonym}",
            "phone": "",
            "email": "",
            "preferred_time": "",
            "message": "",
        },
        InquiryNote: {"text": ERASED_NOTE},
        Consent: {"signer_name": f"Erased patient {pseudonym}"},
    }


#: Text fields that may quote the patient's name inside a sentence (the signed consent
#: statement "I, <name>, …"): the name is replaced within the text.
NAME_IN_TEXT: dict[type[models.Model], tuple[str, ...]] = {Consent: ("meaning",)}


def _neutral_name(row: models.Model, field: models.FileField, old: str, pseudonym: str) -> str:
    folder = PurePosixPath(old).parent
    suffix = PurePosixPath(old).suffix.lower()
    label = row._meta.model_name
    return str(folder / f"{pseudonym.lower()}-{label}-{row.pk}-{field.name}{suffix}")


def _files(
    patient: Patient, pseudonym: str
) -> tuple[dict[tuple[type[models.Model], str, str], str], list[str], int, int]:
    """Delete the face photos and the identity photo, copy the kept files to neutral names.

    Returns the renames ``{(model, field, old name): new name}``, the old files to delete once
    the transaction commits, and the counts of deleted and renamed files.
    """
    renames: dict[tuple[type[models.Model], str, str], str] = {}
    to_delete: list[str] = []
    deleted = renamed = 0
    for entry, row in patient_rows(patient):
        for field in file_fields(entry.model):
            stored = getattr(row, field.attname)
            if not stored:
                continue
            old = stored.name
            storage = stored.storage
            remove = entry.model is Patient or (
                entry.model is GlobalPhoto and row.view in FACE_VIEWS  # type: ignore[attr-defined]
            )
            if remove:
                renames[(entry.model, field.attname, old)] = ""
                deleted += 1
            else:
                try:
                    with stored.open("rb") as handle:
                        content = handle.read()
                except FileNotFoundError:
                    continue
                new = storage.save(_neutral_name(row, field, old, pseudonym), ContentFile(content))
                renames[(entry.model, field.attname, old)] = new
                renamed += 1
            entry.model._default_manager.filter(pk=row.pk).update(
                **{field.attname: renames[(entry.model, field.attname, old)]}
            )
            to_delete.append(old)
    return renames, to_delete, deleted, renamed


def _rewrite_history(
    patient: Patient,
    values: dict[type[models.Model], dict[str, Any]],
    renames: dict[tuple[type[models.Model], str, str], str],
    names: tuple[str, str],
) -> dict[str, int]:
    """Pseudonymize the earlier versions (history rows) of the patient's records."""
    rewritten: dict[str, int] = {}
    old_name, new_name = names
    entries = [e for e in patient_models() if hasattr(e.model, "history")]
    jobs = []
    for entry in entries:
        history = get_history_model_for_model(entry.model)
        ids = list(entry.rows(patient).values_list("pk", flat=True))
        if not ids:
            continue
        fields: dict[str, Any] = dict(values.get(entry.model, {}))
        for name in NAME_IN_TEXT.get(entry.model, ()):
            fields[name] = Replace(F(name), Value(old_name), Value(new_name))
        file_names = {
            (attname, old): new
            for (model, attname, old), new in renames.items()
            if model is entry.model
        }
        if not fields and not file_names:
            continue
        jobs.append((history, ids, fields, file_names))
    tables = sorted({history._meta.db_table for history, *_ in jobs})
    with history_rewrite(tables):
        for history, ids, fields, file_names in jobs:
            rows = history.objects.filter(id__in=ids)
            count = rows.update(**fields) if fields else 0
            for (attname, old), new in file_names.items():
                count += rows.filter(**{attname: old}).update(**{attname: new})
            if count:
                rewritten[history._meta.db_table] = count
    return rewritten


def _stored_api_replies(patient: Patient) -> models.QuerySet[IdempotentResponse]:
    """The API's stored answers (kept so that a retried action is not run twice) that quote
    the patient: a replay would hand their identity back after the erasure."""
    quoted = Q(body__contains=patient.mrn)
    for value in (patient.family_name, patient.email, patient.phone):
        if value:
            quoted |= Q(body__contains=value)
    return IdempotentResponse.objects.filter(quoted)


@transaction.atomic
def patient_erase(*, actor: User, patient: Patient, reason: str, confirm_mrn: str) -> PrivacyEvent:
    """Erase ``patient``'s identity on their request, keeping the de-identified records.

    ``confirm_mrn`` is the patient's MRN typed again by the privacy officer (the second step of
    the confirmation). Refused (with a ``PrivacyErrorCode``) without a reason, with another
    MRN, or for a patient already erased.
    """
    require(actor, Perm.PATIENT_ERASE)
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    require_site_access(user=actor, site_id=patient.site_id)
    if PrivacyEvent.objects.filter(patient=patient, kind=PrivacyEvent.Kind.ERASURE).exists():
        raise refusal("This patient's data has already been erased.", Code.ALREADY_ERASED)
    reason = _require_reason(reason)
    if (confirm_mrn or "").strip().upper() != patient.mrn:
        raise refusal(
            "The MRN typed does not match this patient: nothing was erased.",
            Code.CONFIRMATION_MISMATCH,
            "confirm_mrn",
        )
    pseudonym = _new_pseudonym()
    values = _identifying_values(patient, pseudonym)
    renames, to_delete, deleted, renamed = _files(patient, pseudonym)
    # Earlier versions first, then the new versions (which the history tables record as the
    # erasure itself, by the privacy officer, with its reason).
    names = (patient.full_name, f"Erased patient {pseudonym}")
    rewritten = _rewrite_history(patient, values, renames, names)
    counts: dict[str, int] = {}
    for model, replacement in values.items():
        if model is Patient:
            continue
        entry = next(e for e in patient_models() if e.model is model)
        for row in entry.rows(patient):
            for name, value in replacement.items():
                setattr(row, name, value)
            for name in NAME_IN_TEXT.get(model, ()):
                setattr(row, name, getattr(row, name).replace(*names))
            row._history_user = actor
            row._change_reason = "erased at the patient's request"
            row.save(update_fields=[*replacement, *NAME_IN_TEXT.get(model, ())])
            counts[model._meta.label] = counts.get(model._meta.label, 0) + 1
    replies = _stored_api_replies(patient).delete()[0]
    patient.refresh_from_db()
    for name, value in values[Patient].items():
        setattr(patient, name, value)
    patient._history_user = actor  # type: ignore[attr-defined]
    patient._change_reason = "erased at the patient's request"  # type: ignore[attr-defined]
    patient.save()
    event = PrivacyEvent.objects.create(
        kind=PrivacyEvent.Kind.ERASURE,
        patient=patient,
        actor=actor,
        reason=reason,
        pseudonym=pseudonym,
        summary={
            "records_pseudonymized": counts,
            "history_rows_pseudonymized": rewritten,
            "files_deleted": deleted,
            "files_renamed": renamed,
            "stored_api_replies_deleted": replies,
        },
    )

    def delete_old_files() -> None:
        from django.core.files.storage import default_storage

        for name in to_delete:
            default_storage.delete(name)

    transaction.on_commit(delete_old_files)
    return event
