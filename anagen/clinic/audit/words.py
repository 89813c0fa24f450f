"""An audit value in the clinic's words: field labels, choice labels, linked records by name,
yes/no, local dates, lists summarised, files as a fact (never a path), secrets never."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from django.db import models
from django.utils import formats, timezone
from django.utils.text import capfirst

from anagen.clinic.common.scalp import ScalpZone
from anagen.eligibility.vocab import LABELS as VOCAB_LABELS

#: Fields whose values are never shown (tokens, digests, secrets): only that they changed.
HIDDEN_FIELDS = frozenset(
    {"password", "token", "submission_token", "snapshot_sha256", "record_digest"}
)

#: JSON fields with a summary of their own (the rest: labels of the codes they list).
JSON_SUMMARIES: dict[str, Callable[[Any], str]] = {
    "removed_hair_ids": lambda v: counted(len(v), "hair removed", "hairs removed"),
    "result": lambda v: "analysis result recorded",
    "growth_result": lambda v: "growth analysis recorded",
    "reasons": lambda v: counted(len(v), "reason", "reasons"),
    "follow_up_days": lambda v: "days " + ", ".join(str(d) for d in v),
    "follow_up_window_days": lambda v: "± " + ", ".join(str(d) for d in v) + " days",
}


def counted(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


@cache
def code_labels() -> dict[str, str]:
    from anagen.clinic.treatment.models import Harvest

    labels = {str(k): str(v) for k, v in VOCAB_LABELS.items()}
    labels.update({zone.value: str(zone.label) for zone in ScalpZone})
    labels.update(dict(Harvest.STERILE_CHECKLIST))
    return labels


def code_label(code: object) -> str:
    text = str(code)
    return code_labels().get(text, text.replace("_", " "))


@dataclass(frozen=True)
class Change:
    """One field of one version: its label, raw name (for auditors' CSV) and values in words.

    ``old`` is None for a value recorded at creation or a bare fact ("file replaced").
    """

    field: str
    label: str
    old: str | None
    new: str

    @property
    def text(self) -> str:
        if self.old is None:
            return f"{self.label}: {self.new}"
        return f"{self.label}: {self.old} → {self.new}"


# --- linked records by name, batched ------------------------------------------------------


class Names:
    """Collects (model, pk) wanted by a page, then names them in one query per model."""

    def __init__(self) -> None:
        self._wanted: dict[type[models.Model], set[Any]] = defaultdict(set)
        self._names: dict[tuple[type[models.Model], Any], str] = {}

    def want(self, model: type[models.Model], pk: Any) -> None:
        if pk is not None:
            self._wanted[model].add(pk)

    def resolve(self) -> None:
        for model, pks in self._wanted.items():
            missing = [pk for pk in pks if (model, pk) not in self._names]
            if not missing:
                continue
            # select_related() follows the non-null foreign keys a __str__ may read.
            for obj in model._base_manager.filter(pk__in=missing).select_related():
                self._names[(model, obj.pk)] = str(obj)
        self._wanted.clear()

    def name(self, model: type[models.Model], pk: Any) -> str:
        found = self._names.get((model, pk))
        if found is not None:
            return found
        return f"{capfirst(model._meta.verbose_name)} #{pk} (no longer stored)"


# --- values in words ----------------------------------------------------------------------


def is_empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value == {} or value == set()


def json_words(name: str, value: Any) -> str:
    summary = JSON_SUMMARIES.get(name)
    if summary is not None:
        try:
            return summary(value)
        except TypeError:
            pass
    if isinstance(value, dict):
        if all(isinstance(v, bool) for v in value.values()):
            ticked = [code_label(k) for k, v in value.items() if v]
            return ", ".join(ticked) if ticked else "none ticked"
        return ", ".join(code_label(k) for k in value)
    if isinstance(value, list):
        if all(isinstance(item, str | int | float) for item in value):
            return ", ".join(code_label(item) for item in value)
        return counted(len(value), "entry", "entries")
    return code_label(value)


def in_words(field: models.Field[Any, Any], value: Any, names: Names) -> str:
    """One stored value as the clinic says it (``names`` resolved already for relations)."""
    if isinstance(value, frozenset | set):  # many-to-many: the linked records by name
        assert field.related_model is not None
        related: type[models.Model] = field.related_model
        return ", ".join(sorted(names.name(related, pk) for pk in value)) or "—"
    if is_empty(value):
        return "—"
    if isinstance(field, models.FileField):
        return "document stored"
    if field.is_relation and field.related_model is not None:
        return names.name(field.related_model, value)
    if field.choices:
        label = dict(field.flatchoices).get(value)
        if label is not None:
            return str(label)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return formats.date_format(value, "DATETIME_FORMAT")
    if isinstance(value, date):
        return formats.date_format(value, "DATE_FORMAT")
    if isinstance(value, Decimal | float | int):
        return str(formats.localize(value))
    if isinstance(field, models.JSONField):
        return json_words(field.name, value)
    text = str(value)
    return text if len(text) <= 300 else text[:299] + "…"


def field_label(field: models.Field[Any, Any]) -> str:
    return str(capfirst(field.verbose_name))


def change_of(
    field: models.Field[Any, Any], old: Any, new: Any, names: Names, *, created: bool
) -> Change:
    label = field_label(field)
    if field.name in HIDDEN_FIELDS:
        return Change(field.name, label, None, "recorded" if created else "changed (not shown)")
    if isinstance(field, models.FileField):
        if created or is_empty(old):
            fact = "document stored"
        elif is_empty(new):
            fact = "document removed"
        else:
            fact = "file replaced"
        return Change(field.name, label, None, fact)
    if created:
        return Change(field.name, label, None, in_words(field, new, names))
    return Change(field.name, label, in_words(field, old, names), in_words(field, new, names))
