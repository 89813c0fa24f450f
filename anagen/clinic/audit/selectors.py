"""The audit trail, read from django-simple-history, in the clinic's words.

Every clinical model carries history; a model that is not the patient itself names the path from
its rows to the patient in ``audit_patient_path`` (default ``"patient"``), so the trail collects
every version of every record about one patient without knowing the apps. The network-wide log
(auditors) reads the same sources without the patient restriction, staff and site records
included.

Each source (one history table, the custody log, the signatures) is read lazily: ``AuditLog``
counts each source and, for one page, takes only the newest ``stop`` heads (time and id) of
each, merges them and loads the chosen rows (the previous version of each through one subquery,
linked records by name in one query per model). A page therefore costs a bounded number of
index-friendly queries whatever the size of the history.

Values are shown as the clinic says them: field labels, choice labels, linked records by name,
yes/no, local dates and times, lists summarised; files as "document stored" (never a path);
secrets, tokens and digests never.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol, overload

from django.db import models
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.text import capfirst
from simple_history.models import registered_models
from simple_history.utils import get_history_model_for_model

from anagen.clinic.accounts.access import sites_for
from anagen.clinic.patients.models import Patient

from .words import (
    Change,
    Names,
    change_of,
    field_label,
    in_words,
    is_empty,
)

if TYPE_CHECKING:
    from anagen.clinic.accounts.models import User

    from .models import Signature

#: Entries per page of the trail and the network log.
PAGE_SIZE = 50

ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
CUSTODY_KIND = "custody"
SIGNATURE_KIND = "signature"


# --- the entries --------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    when: datetime
    who: str
    action: str
    kind: str  # the record kind's key (``record_kinds``)
    record: str
    changes: tuple[Change, ...]
    reason: str
    patient: str = ""  # the patient's MRN, when the record is about one


@dataclass(frozen=True)
class AuditFilter:
    """What the reader asked for: who, what kind of record, when (local dates), which patient."""

    who: int | None = None
    kind: str = ""
    since: date | None = None
    until: date | None = None
    mrn: str = ""

    def described(self) -> dict[str, str]:
        """The filters in force, for the export event (ids and dates, never a value)."""
        shown = {
            "who": str(self.who or ""),
            "kind": self.kind,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "mrn": "set" if self.mrn else "",
        }
        return {k: v for k, v in shown.items() if v}


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# --- the sources --------------------------------------------------------------------------

#: One head: (time, tie-breaker, source index, row id).
Head = tuple[datetime, int, int, int]


class _Source(Protocol):
    kind: str

    def count(self) -> int: ...

    def heads(self, limit: int | None, *, newest_first: bool) -> list[tuple[datetime, int]]: ...

    def load(self, ids: Sequence[int], names: Names) -> dict[int, Callable[[], AuditEntry]]: ...


def _patient_path(model: type[models.Model]) -> str | None:
    """The path from a model's rows to their patient ("" for the patient itself, None: none)."""
    if model is Patient:
        return ""
    path = getattr(model, "audit_patient_path", None)
    if path:
        return str(path)
    if any(f.name == "patient" for f in model._meta.get_fields()):
        return "patient"
    return None


def _history_models() -> list[type[models.Model]]:
    """Every model with a history table (m2m link tables are read through their owner)."""
    found = [
        model
        for model in registered_models.values()
        # an m2m link table has no manager of its own: its history belongs to the owner's rows
        if getattr(model._meta, "simple_history_manager_attribute", None)
    ]
    return sorted(found, key=lambda m: m._meta.label)


@cache
def _tracked_fields(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    history = get_history_model_for_model(model)
    kept = {f.name for f in history._meta.fields}
    return tuple(
        f
        for f in model._meta.concrete_fields
        if f.name in kept and not f.primary_key and f.name not in ("history_change_reason",)
    )


@cache
def _m2m_sources(model: type[models.Model]) -> tuple[tuple[models.Field[Any, Any], Any, str], ...]:
    """(field, m2m history model, its column naming the linked record) per tracked m2m field."""
    history = get_history_model_for_model(model)
    found = []
    for field in getattr(history, "_history_m2m_fields", ()):
        m2m_history = history.__dict__[field.name].model
        target = field.related_model
        column = next(
            f.attname
            for f in m2m_history._meta.fields
            if f.is_relation and f.related_model is target and f.name != "history"
        )
        found.append((field, m2m_history, column))
    return tuple(found)


def _kind_key(model: type[models.Model]) -> str:
    return model._meta.label_lower


class _HistorySource:
    def __init__(self, model: type[models.Model], rows: QuerySet[Any], patient_path: str | None):
        self.model = model
        self.kind = _kind_key(model)
        self.rows = rows
        self.patient_path = patient_path
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = self.rows.count()
        return self._count

    def heads(self, limit: int | None, *, newest_first: bool) -> list[tuple[datetime, int]]:
        order = ("-history_date", "-history_id") if newest_first else ("history_date", "history_id")
        query = self.rows.order_by(*order).values_list("history_date", "history_id")
        return list(query[:limit] if limit is not None else query)

    def load(self, ids: Sequence[int], names: Names) -> dict[int, Callable[[], AuditEntry]]:
        history = get_history_model_for_model(self.model)
        previous = Subquery(
            history.objects.filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id"))
            .order_by("-history_id")
            .values("history_id")[:1]
        )
        extra: dict[str, str] = {}
        if self.patient_path is not None:
            mrn = "mrn" if self.patient_path == "" else f"{self.patient_path}__mrn"
            extra["patient_mrn"] = mrn
        rows = list(
            history.objects.filter(history_id__in=ids)
            .select_related("history_user")
            .annotate(previous_id=previous)
            .annotate(**{k: models.F(v) for k, v in extra.items()})
        )
        prev_ids = [r.previous_id for r in rows if r.previous_id is not None]
        before = {r.history_id: r for r in history.objects.filter(history_id__in=prev_ids)}
        linked = self._m2m_values([r.history_id for r in rows] + prev_ids)
        fields = _tracked_fields(self.model)
        for row in rows:
            old = before.get(row.previous_id)
            for version in (row, old):
                if version is None:
                    continue
                for field in fields:
                    if field.is_relation and field.related_model is not None:
                        names.want(field.related_model, getattr(version, field.attname))
                for link, _, _ in _m2m_sources(self.model):
                    assert link.related_model is not None
                    for pk in linked.get((version.history_id, link.name), ()):
                        names.want(link.related_model, pk)
        return {
            row.history_id: self._entry(row, before.get(row.previous_id), linked, names)
            for row in rows
        }

    def _m2m_values(self, history_ids: list[int]) -> dict[tuple[int, str], frozenset[Any]]:
        values: dict[tuple[int, str], set[Any]] = defaultdict(set)
        for field, m2m_history, column in _m2m_sources(self.model):
            for history_id in history_ids:
                values[(history_id, field.name)]  # an empty set is a value too
            for history_id, pk in m2m_history.objects.filter(
                history_id__in=history_ids
            ).values_list("history_id", column):
                values[(history_id, field.name)].add(pk)
        return {key: frozenset(pks) for key, pks in values.items()}

    def _entry(
        self,
        row: Any,
        old: Any,
        linked: dict[tuple[int, str], frozenset[Any]],
        names: Names,
    ) -> Callable[[], AuditEntry]:
        def build() -> AuditEntry:
            created = row.history_type == "+" or old is None
            changes: list[Change] = []
            if row.history_type != "-":
                for field in _tracked_fields(self.model):
                    new = getattr(row, field.attname)
                    if created:
                        if not is_empty(new) and new is not False:
                            changes.append(change_of(field, None, new, names, created=True))
                        continue
                    before = getattr(old, field.attname)
                    if before != new:
                        changes.append(change_of(field, before, new, names, created=False))
                for field, _, _ in _m2m_sources(self.model):
                    new_set = linked.get((row.history_id, field.name), frozenset())
                    if created:
                        if new_set:
                            changes.append(
                                Change(
                                    field.name,
                                    field_label(field),
                                    None,
                                    in_words(field, new_set, names),
                                )
                            )
                        continue
                    old_set = linked.get((old.history_id, field.name), frozenset())
                    if old_set != new_set:
                        changes.append(
                            Change(
                                field.name,
                                field_label(field),
                                in_words(field, old_set, names),
                                in_words(field, new_set, names),
                            )
                        )
            return AuditEntry(
                when=row.history_date,
                who=row.history_user.display_name if row.history_user else "system",
                action=ACTIONS.get(row.history_type, row.history_type),
                kind=self.kind,
                record=f"{capfirst(self.model._meta.verbose_name)} #{row.id}",
                changes=tuple(changes),
                reason=row.history_change_reason or "",
                patient=getattr(row, "patient_mrn", "") or "",
            )

        return build


class _CustodySource:
    kind = CUSTODY_KIND

    def __init__(self, events: QuerySet[Any]):
        self.events = events
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = self.events.count()
        return self._count

    def heads(self, limit: int | None, *, newest_first: bool) -> list[tuple[datetime, int]]:
        order = ("-at", "-pk") if newest_first else ("at", "pk")
        query = self.events.order_by(*order).values_list("at", "pk")
        return list(query[:limit] if limit is not None else query)

    def load(self, ids: Sequence[int], names: Names) -> dict[int, Callable[[], AuditEntry]]:
        from anagen.clinic.treatment.models import CellProduct

        status = dict(CellProduct._meta.get_field("status").flatchoices)
        events = self.events.model.objects.filter(pk__in=ids).select_related(
            "actor", "product", "product__patient"
        )

        def entry(event: Any) -> Callable[[], AuditEntry]:
            def build() -> AuditEntry:
                changes: tuple[Change, ...] = ()
                if event.from_status:
                    changes = (
                        Change(
                            "status",
                            "Status",
                            str(status.get(event.from_status, event.from_status)),
                            str(status.get(event.to_status, event.to_status)),
                        ),
                    )
                return AuditEntry(
                    when=event.at,
                    who=event.actor.display_name,
                    action=f"custody: {event.get_kind_display().lower()}",
                    kind=CUSTODY_KIND,
                    record=f"Cell product {event.product.product_code}",
                    changes=changes,
                    reason=" · ".join(x for x in (event.location, event.reason) if x),
                    patient=event.product.patient.mrn,
                )

            return build

        return {event.pk: entry(event) for event in events}


class _SignatureSource:
    kind = SIGNATURE_KIND

    def __init__(self, signatures: QuerySet[Signature]):
        self.signatures = signatures
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = self.signatures.count()
        return self._count

    def heads(self, limit: int | None, *, newest_first: bool) -> list[tuple[datetime, int]]:
        order = ("-signed_at", "-pk") if newest_first else ("signed_at", "pk")
        query = self.signatures.order_by(*order).values_list("signed_at", "pk")
        return list(query[:limit] if limit is not None else query)

    def load(self, ids: Sequence[int], names: Names) -> dict[int, Callable[[], AuditEntry]]:
        from .models import Signature

        signatures = list(Signature.objects.filter(pk__in=ids).select_related("content_type"))
        for signature in signatures:
            model = signature.content_type.model_class()
            if model is not None:
                names.want(model, signature.object_id)

        def entry(signature: Signature) -> Callable[[], AuditEntry]:
            def build() -> AuditEntry:
                model = signature.content_type.model_class()
                record = (
                    names.name(model, signature.object_id)
                    if model is not None
                    else f"{capfirst(signature.content_type.name)} #{signature.object_id}"
                )
                return AuditEntry(
                    when=signature.signed_at,
                    who=signature.signer_name,
                    action=f"e-signature: {signature.get_meaning_display()}",
                    kind=SIGNATURE_KIND,
                    record=record,
                    changes=(),
                    reason=_signed_with(signature),
                )

            return build

        return {signature.pk: entry(signature) for signature in signatures}


def _signed_with(signature: Signature) -> str:
    # Legacy signatures are plain SHA-256, recomputable by anyone: the auditor should see that.
    # The digest itself is never shown.
    if signature.is_legacy:
        return "LEGACY unkeyed digest (not a server-keyed signature)"
    return f"key {signature.key_id}, HMAC (value not shown)"


# --- the log: a lazy, pageable sequence over every source ---------------------------------


class AuditLog:
    """The merged entries of several sources, newest first; a sequence for ``Paginator``."""

    def __init__(self, sources: Iterable[_Source]):
        self.sources = list(sources)
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = sum(source.count() for source in self.sources)
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[AuditEntry]:
        return iter(self[0 : self.count()])

    @overload
    def __getitem__(self, key: int) -> AuditEntry: ...

    @overload
    def __getitem__(self, key: slice) -> list[AuditEntry]: ...

    def __getitem__(self, key: int | slice) -> AuditEntry | list[AuditEntry]:
        if isinstance(key, int):
            return self[key : key + 1][0]
        start, stop = key.start or 0, key.stop
        if stop is None:
            stop = self.count()
        heads: list[Head] = []
        for index, source in enumerate(self.sources):
            if source.count():
                heads.extend(
                    (when, pk, index, pk) for when, pk in source.heads(stop, newest_first=True)
                )
        heads.sort(reverse=True)
        return self._hydrate(heads[start:stop])

    def in_time_order(self, chunk: int = 500) -> Iterator[AuditEntry]:
        """Every entry, oldest first (the CSV export), loaded ``chunk`` at a time."""
        heads: list[Head] = []
        for index, source in enumerate(self.sources):
            if source.count():
                heads.extend(
                    (when, pk, index, pk) for when, pk in source.heads(None, newest_first=False)
                )
        heads.sort()
        for offset in range(0, len(heads), chunk):
            yield from self._hydrate(heads[offset : offset + chunk])

    def _hydrate(self, heads: list[Head]) -> list[AuditEntry]:
        by_source: dict[int, list[int]] = defaultdict(list)
        for _, _, index, pk in heads:
            by_source[index].append(pk)
        names = Names()
        builders: dict[tuple[int, int], Callable[[], AuditEntry]] = {}
        for index, pks in by_source.items():
            for pk, build in self.sources[index].load(pks, names).items():
                builders[(index, pk)] = build
        names.resolve()
        return [builders[(index, pk)]() for _, _, index, pk in heads if (index, pk) in builders]


# --- what the pages ask for ---------------------------------------------------------------


def _filtered(rows: QuerySet[Any], *, when: str, who: str, wanted: AuditFilter) -> QuerySet[Any]:
    if wanted.who is not None:
        rows = rows.filter(**{who: wanted.who})
    if wanted.since is not None:
        rows = rows.filter(**{f"{when}__gte": _day_start(wanted.since)})
    if wanted.until is not None and wanted.until < date.max:  # date.max: no end (nor overflow)
        rows = rows.filter(**{f"{when}__lt": _day_start(wanted.until + timedelta(days=1))})
    return rows


def _patient_filter(path: str, suffix: str, value: Any) -> Q:
    return Q(**{f"{path}__{suffix}" if path else suffix: value})


def _sources(
    *, patient_ids: Any = None, site_ids: Any = None, wanted: AuditFilter
) -> list[_Source]:
    """Every source, narrowed to the given patients (ids or a subquery) and sites (None: all)."""
    from anagen.clinic.accounts.models import Site, User
    from anagen.clinic.treatment.models import CellProduct, CustodyEvent, TreatmentSession

    from .models import Signature

    sources: list[_Source] = []
    for model in _history_models():
        if wanted.kind and wanted.kind != _kind_key(model):
            continue
        path = _patient_path(model)
        history = get_history_model_for_model(model)
        rows = history.objects.all()
        if patient_ids is not None:
            if path is None:
                continue
            rows = rows.filter(_patient_filter(path, "id__in", patient_ids))
        if site_ids is not None:
            if path is not None:
                rows = rows.filter(_patient_filter(path, "site_id__in", site_ids))
            elif model is User:
                rows = rows.filter(id__in=User.objects.filter(sites__in=site_ids).values("pk"))
            elif model is Site:
                rows = rows.filter(id__in=site_ids)
        rows = _filtered(rows, when="history_date", who="history_user_id", wanted=wanted)
        sources.append(_HistorySource(model, rows, path))

    if not wanted.kind or wanted.kind == CUSTODY_KIND:
        events = CustodyEvent.objects.all()
        if patient_ids is not None:
            events = events.filter(product__patient_id__in=patient_ids)
        if site_ids is not None:
            events = events.filter(product__patient__site_id__in=site_ids)
        sources.append(_CustodySource(_filtered(events, when="at", who="actor_id", wanted=wanted)))

    if not wanted.kind or wanted.kind == SIGNATURE_KIND:
        from django.contrib.contenttypes.models import ContentType

        signed = Q()
        for model in (CellProduct, TreatmentSession):
            records = model.objects.all()
            if patient_ids is not None:
                records = records.filter(patient_id__in=patient_ids)
            if site_ids is not None:
                records = records.filter(patient__site_id__in=site_ids)
            signed |= Q(
                content_type=ContentType.objects.get_for_model(model),
                object_id__in=records.values("pk"),
            )
        signatures = Signature.objects.filter(signed)
        sources.append(
            _SignatureSource(
                _filtered(signatures, when="signed_at", who="signer_id", wanted=wanted)
            )
        )
    return sources


def patient_audit_log(*, patient: Patient, wanted: AuditFilter | None = None) -> AuditLog:
    """Every version of every record about ``patient`` (already scoped by ``patient_get``)."""
    return AuditLog(_sources(patient_ids=[patient.pk], wanted=wanted or AuditFilter()))


def patient_audit_trail(*, patient: Patient, wanted: AuditFilter | None = None) -> list[AuditEntry]:
    """The whole trail of one patient, newest first."""
    log = patient_audit_log(patient=patient, wanted=wanted)
    return log[0 : log.count()]


def network_audit_log(*, user: User, wanted: AuditFilter | None = None) -> AuditLog:
    """Every record's history at the sites ``user`` sees (all of them for network-wide staff),
    staff and site records included; ``wanted.mrn`` narrows it to one patient."""
    wanted = wanted or AuditFilter()
    all_sites = bool(user.all_sites or user.is_superuser)
    site_ids = None if all_sites else list(sites_for(user=user).values_list("pk", flat=True))
    patient_ids = None
    if wanted.mrn:
        patients = Patient.objects.filter(mrn=wanted.mrn.strip())
        if site_ids is not None:
            patients = patients.filter(site_id__in=site_ids)
        patient_ids = list(patients.values_list("pk", flat=True))
    return AuditLog(_sources(patient_ids=patient_ids, site_ids=site_ids, wanted=wanted))


def record_kinds(*, patient_only: bool) -> list[tuple[str, str]]:
    """(key, label) of every kind of record on the trail (patient's) or the network log."""
    kinds = [
        (_kind_key(model), str(capfirst(model._meta.verbose_name)))
        for model in _history_models()
        if not patient_only or _patient_path(model) is not None
    ]
    kinds += [(CUSTODY_KIND, "Custody event"), (SIGNATURE_KIND, "E-signature")]
    return sorted(kinds, key=lambda kind: kind[1])


def audit_staff(*, user: User) -> QuerySet[User]:
    """The staff a reader may pick in the "who" filter: those at the reader's sites."""
    from anagen.clinic.accounts.models import User

    staff = User.objects.all()
    if not (user.all_sites or user.is_superuser):
        staff = staff.filter(Q(sites__in=sites_for(user=user)) | Q(all_sites=True)).distinct()
    return staff.order_by("first_name", "last_name", "email")


#: CSV columns of the export: the clinic's words, and the raw field name for auditors.
