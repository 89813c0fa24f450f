"""Which records become which FHIR resources, and the reads the FHIR views offer.

Each ``Source`` is one kind of Anagen record: the resource types it yields, how a resource id
names its record (``asm-12-ferritin`` → assessment 12), the scoped rows (``selectors``) and the
mapping (``mapping``). ``policy.FHIR_SOURCES`` says which permission reads each source; a type a
reader may read from no source is refused, a source they may not read is left out (a nurse's
``$everything`` has no AuditEvent).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import FHIR_SOURCES, Perm, allows
from anagen.clinic.patients.models import Patient

from . import codes, mapping, selectors
from .mapping import Resource

#: The resource types Anagen serves (the CapabilityStatement lists them).
TYPES = (
    "Patient",
    "Practitioner",
    "Organization",
    "Location",
    "Condition",
    "Observation",
    "Encounter",
    "Appointment",
    "CarePlan",
    "Consent",
    "DocumentReference",
    "Procedure",
    "Specimen",
    "BiologicallyDerivedProduct",
    "BiologicallyDerivedProductDispense",
    "AdverseEvent",
    "AuditEvent",
    "CodeSystem",
)

DEFAULT_COUNT = 50
MAX_COUNT = 500


class SearchError(ValueError):
    """A search the server cannot answer (unknown or malformed parameter): a 400."""


@dataclass(frozen=True)
class Source:
    key: str
    #: resource type → pattern of its ids from this source (group 1: the record's pk)
    ids: dict[str, str]
    rows: Callable[..., QuerySet[Any]]
    build: Callable[[Any], list[Resource]]
    by_patient: bool = True

    def pk_of(self, kind: str, ident: str) -> int | None:
        pattern = self.ids.get(kind)
        match = re.fullmatch(pattern, ident) if pattern else None
        return int(match.group(1)) if match and len(match.group(1)) <= 12 else None


def _one(build: Callable[[Any], Resource]) -> Callable[[Any], list[Resource]]:
    return lambda row: [build(row)]


def _site_resources(site: Any) -> list[Resource]:
    return [mapping.organization_resource(site), mapping.location_resource(site)]


_N = r"([0-9]+)"
SOURCES: tuple[Source, ...] = (
    Source(
        "patient",
        {"Patient": _N},
        lambda *, user, patient_ids=None: selectors.patients(user=user, patient_ids=patient_ids),
        _one(mapping.patient_resource),
    ),
    Source(
        "staff",
        {"Practitioner": _N},
        lambda *, user, patient_ids=None: selectors.staff(user=user),
        _one(mapping.practitioner_resource),
        by_patient=False,
    ),
    Source(
        "site",
        {"Organization": _N, "Location": _N},
        lambda *, user, patient_ids=None: selectors.sites(user=user),
        _site_resources,
        by_patient=False,
    ),
    Source(
        "assessment",
        {"Condition": rf"asm-{_N}", "Observation": rf"asm-{_N}-[a-z-]+"},
        selectors.assessments,
        mapping.assessment_resources,
    ),
    Source(
        "appointment",
        {"Appointment": _N, "Encounter": _N},
        selectors.appointments,
        mapping.appointment_resources,
    ),
    Source("plan", {"CarePlan": _N}, selectors.plans, _one(mapping.careplan_resource)),
    Source(
        "consent",
        {"Consent": _N, "DocumentReference": rf"consent-{_N}"},
        selectors.consents,
        mapping.consent_resources,
    ),
    Source(
        "harvest",
        {"Procedure": rf"harvest-{_N}", "Specimen": _N},
        selectors.harvests,
        mapping.harvest_resources,
    ),
    Source(
        "product",
        {"BiologicallyDerivedProduct": _N},
        selectors.products,
        _one(mapping.product_resource),
    ),
    Source(
        "session",
        {"Procedure": rf"session-{_N}", "BiologicallyDerivedProductDispense": _N},
        selectors.sessions,
        mapping.session_resources,
    ),
    Source(
        "adverse_event",
        {"AdverseEvent": _N},
        selectors.adverse_events,
        _one(mapping.adverse_event_resource),
    ),
    Source(
        "trichoscopy",
        {"DocumentReference": rf"tri-{_N}", "Observation": rf"tri-{_N}-[a-z-]+"},
        selectors.trichoscopy,
        mapping.trichoscopy_resources,
    ),
)
SOURCE_BY_KEY = {source.key: source for source in SOURCES}


def may_read(user: User, key: str) -> bool:
    return allows(user, Perm.FHIR_READ) and allows(user, FHIR_SOURCES[key])


def readable_sources(user: User, kind: str) -> list[Source]:
    return [s for s in SOURCES if kind in s.ids and may_read(user, s.key)]


def may_read_type(user: User, kind: str) -> bool:
    if kind == "CodeSystem":
        return allows(user, Perm.FHIR_READ)
    if kind == "AuditEvent":
        return may_read(user, "audit")
    return bool(readable_sources(user, kind))


# --- read ---------------------------------------------------------------------------------


def read(*, user: User, kind: str, ident: str) -> Resource | None:
    """One resource by type and id, or None (unknown, another site's, or not readable)."""
    if kind == "CodeSystem":
        return codes.hair_measures_code_system() if ident == "anagen-hair-measures" else None
    if kind == "AuditEvent":
        return next((r for r in _audit_events(user, None) if r["id"] == ident), None)
    for source in readable_sources(user, kind):
        pk = source.pk_of(kind, ident)
        if pk is None:
            continue
        row = source.rows(user=user).filter(pk=pk).first()
        if row is None:
            continue
        for resource in source.build(row):
            if resource["resourceType"] == kind and resource["id"] == ident:
                return resource
    return None


# --- search -------------------------------------------------------------------------------

#: Parameters every search accepts; the others are per type (``_TYPE_PARAMS``).
_COMMON = {"_id", "_count", "_offset", "_format", "patient", "subject"}
_TYPE_PARAMS: dict[str, set[str]] = {
    "Patient": {"identifier", "name", "family", "given", "birthdate"},
    "Observation": {"code", "category"},
    "Condition": {"code"},
}


def _reference_id(value: str, kind: str = "Patient") -> int:
    text = value.strip().removeprefix(f"{kind}/")
    if not text.isdecimal() or len(text) > 12:
        raise SearchError(f"'{value}' is not a reference to a {kind} of this server.")
    return int(text)


def _int_param(params: dict[str, str], name: str, default: int, high: int) -> int:
    text = params.get(name, "")
    if not text:
        return default
    if not text.isdecimal() or len(text) > 9:
        raise SearchError(f"{name} must be a whole number.")
    return min(int(text), high)


def _token_matches(resource: Resource, element: str, token: str) -> bool:
    system, _, code = token.rpartition("|")
    value = resource.get(element)
    concepts = value if isinstance(value, list) else [value] if value else []
    for concept in concepts:
        for coding in concept.get("coding", []):
            if coding.get("code") == code and (not system or coding.get("system") == system):
                return True
    return False


def _patient_filter(rows: QuerySet[Patient], params: dict[str, str]) -> QuerySet[Patient]:
    if params.get("identifier"):
        system, _, value = params["identifier"].rpartition("|")
        if system and system != codes.system("mrn"):
            return rows.none()
        rows = rows.filter(mrn=value)
    for name, lookup in (("family", "family_name"), ("given", "given_name")):
        if params.get(name):
            rows = rows.filter(**{f"{lookup}__istartswith": params[name]})
    if params.get("name"):
        for term in params["name"].split():
            rows = rows.filter(Q(given_name__icontains=term) | Q(family_name__icontains=term))
    if params.get("birthdate"):
        text = params["birthdate"].removeprefix("eq")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise SearchError("birthdate must be a date, YYYY-MM-DD.")
        rows = rows.filter(date_of_birth=text)
    return rows


@dataclass
class SearchResult:
    resources: list[Resource]
    total: int | None
    next_offset: int | None


def search(*, user: User, kind: str, params: dict[str, str]) -> SearchResult:
    """Resources of ``kind`` matching ``params``, paged by the records they come from."""
    unknown = set(params) - _COMMON - _TYPE_PARAMS.get(kind, set())
    if unknown:
        raise SearchError(
            f"Search parameter not supported for {kind}: {', '.join(sorted(unknown))}."
        )
    count = _int_param(params, "_count", DEFAULT_COUNT, MAX_COUNT)
    offset = _int_param(params, "_offset", 0, 10**9)
    patient_ref = params.get("patient") or params.get("subject")
    patient_ids = [_reference_id(patient_ref)] if patient_ref else None
    wanted_id = params.get("_id")
    if kind == "CodeSystem":
        systems = [codes.hair_measures_code_system()]
        systems = [r for r in systems if not wanted_id or r["id"] == wanted_id]
        return SearchResult(systems, len(systems), None)
    if kind == "AuditEvent":
        if patient_ids is None:
            raise SearchError("Search AuditEvent by patient (?patient=Patient/ID).")
        events = [
            r for r in _audit_events(user, patient_ids) if not wanted_id or r["id"] == wanted_id
        ]
        page = events[offset : offset + count]
        more = offset + count < len(events)
        return SearchResult(page, len(events), offset + count if more else None)
    rows_per_source: list[tuple[Source, QuerySet[Any]]] = []
    for source in readable_sources(user, kind):
        if patient_ids is not None and not source.by_patient:
            raise SearchError(f"{kind} cannot be searched by patient.")
        rows = source.rows(user=user, patient_ids=patient_ids)
        if kind == "Patient":
            rows = _patient_filter(rows, params)
        if wanted_id:
            pk = source.pk_of(kind, wanted_id)
            if pk is None:
                continue
            rows = rows.filter(pk=pk)
        rows_per_source.append((source, rows))
    sized = [(source, rows, rows.count()) for source, rows in rows_per_source]
    total_rows = sum(size for _, _, size in sized)
    found: list[Resource] = []
    skip, remaining = offset, count
    for source, rows, size in sized:
        if remaining <= 0:
            break
        if skip >= size:
            skip -= size
            continue
        for row in rows[skip : skip + remaining]:
            found.extend(_wanted(source.build(row), kind, params))
            remaining -= 1
        skip = 0
    filtered = bool(params.get("code") or params.get("category"))
    total = total_rows if kind in _ONE_PER_ROW and not filtered else None
    more = offset + count < total_rows
    return SearchResult(found, total, offset + count if more else None)


# Types where each record gives exactly one resource of the type (so rows count resources).
_ONE_PER_ROW = {
    "Patient",
    "Practitioner",
    "Organization",
    "Location",
    "Condition",
    "Appointment",
    "CarePlan",
    "Consent",
    "Specimen",
    "BiologicallyDerivedProduct",
    "BiologicallyDerivedProductDispense",
    "AdverseEvent",
}


def _wanted(resources: list[Resource], kind: str, params: dict[str, str]) -> Iterator[Resource]:
    for resource in resources:
        if resource["resourceType"] != kind:
            continue
        if params.get("_id") and resource["id"] != params["_id"]:
            continue
        if params.get("code") and not _token_matches(resource, "code", params["code"]):
            continue
        if params.get("category") and not _token_matches(resource, "category", params["category"]):
            continue
        yield resource


# --- audit events -------------------------------------------------------------------------


def _audit_events(
    user: User, patient_ids: list[int] | None, *, full_access: bool = False
) -> list[Resource]:
    if not (full_access or may_read(user, "audit")):
        return []
    out: list[Resource] = []
    for patient in selectors.patients(user=user, patient_ids=patient_ids):
        out.extend(
            mapping.audit_event_resource(entry, patient)
            for entry in selectors.audit_trail(patient=patient)
        )
    return out


# --- $everything --------------------------------------------------------------------------


def _references(value: Any, kind: str) -> Iterator[str]:
    if isinstance(value, dict):
        reference = value.get("reference")
        if isinstance(reference, str) and reference.startswith(f"{kind}/"):
            yield reference.split("/", 1)[1]
        for item in value.values():
            yield from _references(item, kind)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item, kind)


def command_line_reader() -> User:
    """The reader of ``manage.py export_fhir``: whoever runs it has the database already, so it
    reads every site and every source (an unsaved, all-sites account; nothing is stored)."""
    return User(username="command-line", all_sites=True, is_active=True)


def everything(*, user: User, patient: Patient, full_access: bool = False) -> list[Resource]:
    """Every resource about ``patient`` the reader may read, with the staff and site they
    reference (``patient`` already scoped by ``selectors.patients``). ``full_access``: the
    command line (``command_line_reader``), every source."""

    def readable(key: str) -> bool:
        return full_access or may_read(user, key)

    resources: list[Resource] = []
    for source in SOURCES:
        if not source.by_patient or not readable(source.key):
            continue
        for row in source.rows(user=user, patient_ids=[patient.pk]):
            resources.extend(source.build(row))
    if readable("site"):
        resources.extend(_site_resources(patient.site))
    if readable("staff"):
        staff_ids = sorted(
            {int(i) for i in _references(resources, "Practitioner") if i.isdecimal()}
        )
        resources.extend(
            mapping.practitioner_resource(u)
            for u in User.objects.filter(pk__in=staff_ids).order_by("pk")
        )
    resources.extend(_audit_events(user, [patient.pk], full_access=full_access))
    return resources
