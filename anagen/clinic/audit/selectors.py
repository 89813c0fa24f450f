"""The per-patient audit trail, read from django-simple-history.

Every clinical model carries history; a model that is not the patient itself names the path from
its rows to the patient in ``audit_patient_path`` (default ``"patient"``), so the trail collects
every version of every record about one patient without knowing the apps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models
from simple_history.models import registered_models

from anagen.clinic.patients.models import Patient

if TYPE_CHECKING:
    from .models import Signature


@dataclass(frozen=True)
class AuditEntry:
    when: datetime
    who: str
    action: str
    record: str
    changes: tuple[tuple[str, str, str], ...]  # (field, old, new)
    reason: str


ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


def _patient_lookup(model: type[models.Model]) -> str | None:
    if model is Patient:
        return "id"
    path = getattr(model, "audit_patient_path", None)
    if path:
        return f"{path}_id" if "__" not in path else path
    if any(f.name == "patient" for f in model._meta.get_fields()):
        return "patient_id"
    return None


def patient_audit_trail(*, patient: Patient) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for model in registered_models.values():
        lookup = _patient_lookup(model)
        if lookup is None:
            continue
        rows = list(
            model.history.filter(**{lookup: patient.pk})
            .select_related("history_user")
            .order_by("id", "history_date")
        )
        previous_by_id: dict[int, Any] = {}
        for row in rows:
            before = previous_by_id.get(row.id)
            changes: tuple[tuple[str, str, str], ...] = ()
            if before is not None:
                delta = row.diff_against(before)
                changes = tuple((c.field, _show(c.old), _show(c.new)) for c in delta.changes)
            previous_by_id[row.id] = row
            entries.append(
                AuditEntry(
                    when=row.history_date,
                    who=row.history_user.display_name if row.history_user else "system",
                    action=ACTIONS.get(row.history_type, row.history_type),
                    record=f"{model._meta.verbose_name.capitalize()} #{row.id}",
                    changes=changes,
                    reason=row.history_change_reason or "",
                )
            )
    entries.extend(_custody_and_signatures(patient))
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries


def _custody_and_signatures(patient: Patient) -> list[AuditEntry]:
    """Append-only custody events and e-signatures about this patient's records."""
    from django.contrib.contenttypes.models import ContentType

    from anagen.clinic.treatment.models import CellProduct, CustodyEvent, TreatmentSession

    from .models import Signature

    entries = [
        AuditEntry(
            when=event.at,
            who=event.actor.display_name,
            action=f"custody: {event.get_kind_display().lower()}",
            record=f"Cell product {event.product.product_code}",
            changes=(("status", event.from_status or "—", event.to_status),)
            if event.from_status
            else (),
            reason=" · ".join(x for x in (event.location, event.reason) if x),
        )
        for event in CustodyEvent.objects.filter(product__patient=patient).select_related(
            "actor", "product"
        )
    ]
    signed = {
        ContentType.objects.get_for_model(CellProduct): CellProduct.objects.filter(patient=patient),
        ContentType.objects.get_for_model(TreatmentSession): TreatmentSession.objects.filter(
            patient=patient
        ),
    }
    for content_type, records in signed.items():
        for signature in Signature.objects.filter(
            content_type=content_type, object_id__in=records.values("pk")
        ):
            entries.append(
                AuditEntry(
                    when=signature.signed_at,
                    who=signature.signer_name,
                    action=f"e-signature: {signature.get_meaning_display()}",
                    record=f"{content_type.name.capitalize()} #{signature.object_id}",
                    changes=(),
                    reason=f"record version {signature.record_version}, {_signed_with(signature)}",
                )
            )
    return entries


def _signed_with(signature: Signature) -> str:
    # Legacy signatures are plain SHA-256, recomputable by anyone: the auditor should see that.
    if signature.is_legacy:
        return f"LEGACY unkeyed digest {signature.record_digest[:12]}…"
    return f"key {signature.key_id}, HMAC {signature.record_digest[:12]}…"


def _show(value: object) -> str:
    text = "—" if value in (None, "") else str(value)
    return text if len(text) <= 120 else text[:117] + "…"
