"""Import of a FHIR R5 Bundle from another system: patients, their androgenic alopecia and the
observations Anagen keeps (hair-loss pattern, stages, laboratory results).

Every resource is first checked by its ``fhir.resources`` R5 model; then each patient becomes a
registration (``patients.services.patient_create``) and each diagnosis with its same-time
observations an assessment (``assessment.services.assessment_record``, which also records the
eligibility decision). Nothing is written another way, so every clinical rule of those services
holds (duplicates, implausible laboratory values, dates). ``fhir_import_plan`` runs the whole
import inside a transaction that is rolled back and reports what would happen;
``fhir_import_apply`` runs it for real and writes all of it or, at the first problem, nothing.

What Anagen does not keep from such a Bundle (hair measures measured from images that are not
in it, other resource types, diagnoses other than ICD-10 L64) is listed as skipped, with why.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from fhir.resources import get_fhir_model_class

from anagen.clinic.accounts.access import require_site_access
from anagen.clinic.accounts.models import Site, User
from anagen.clinic.accounts.policy import Perm, require
from anagen.clinic.assessment.services import assessment_record
from anagen.clinic.common.imports import (
    Problem,
    refused_message,
    service_refusals,
    write_all_or_nothing,
)
from anagen.clinic.patients.models import Patient, Sex
from anagen.clinic.patients.services import patient_create

from . import codes
from .error_codes import FhirImportErrorCode as Code

#: The most entries one Bundle may hold (a larger one is refused before anything is read).
MAX_ENTRIES = 5000

_IMPORTED = {"Patient", "Condition", "Observation"}
_SCALE_FIELDS = {scale: field for field, scale in codes.STAGE_SCALES.items()}
_PATTERN_BY_CONDITION = "thinning"  # androgenic alopecia is patterned thinning


@dataclass
class PlannedAssessment:
    assessed_at: datetime
    fields: dict[str, Any]
    sources: list[str]


@dataclass
class PlannedPatient:
    source: str
    location: str
    name: str
    fields: dict[str, Any]
    assessments: list[PlannedAssessment] = field(default_factory=list)
    mrn: str = ""  # the MRN issued (in a dry run: the one that would be issued)


@dataclass
class ImportReport:
    """What the import did (or, in a dry run, would do)."""

    dry_run: bool
    patients: list[PlannedPatient] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def assessments(self) -> int:
        return sum(len(p.assessments) for p in self.patients)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "ok": self.ok,
            "patients": [
                {
                    "source": p.source,
                    "mrn": p.mrn,
                    "assessments": [
                        {"assessed_at": a.assessed_at.isoformat(), "sources": a.sources}
                        for a in p.assessments
                    ],
                }
                for p in self.patients
            ],
            "skipped": [s.as_dict() for s in self.skipped],
            "problems": [p.as_dict() for p in self.problems],
        }


class ImportRefused(ValidationError):
    """The Bundle cannot be imported; ``report`` lists every problem (nothing was written)."""

    def __init__(self, report: ImportReport):
        self.report = report
        super().__init__(
            refused_message("The Bundle was not imported", report.problems),
            code=report.problems[0].code,
        )


# --- reading the Bundle -------------------------------------------------------------------


def bundle_load(raw: bytes | str | dict[str, Any]) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The Bundle's entries (each ``{"fullUrl", "resource", "location"}``) or the problems
    that keep it from being read: malformed JSON, not a Bundle, a resource its R5 model refuses."""
    if isinstance(raw, dict):
        data: Any = raw
    else:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            return [], [Problem("file", f"This is not JSON ({exc}).", Code.MALFORMED_JSON)]
        except RecursionError:
            return [], [Problem("file", "This JSON is nested too deeply.", Code.MALFORMED_JSON)]
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        return [], [Problem("file", "This is not a FHIR Bundle.", Code.NOT_A_BUNDLE)]
    entries = data.get("entry") or []
    if not isinstance(entries, list):
        return [], [Problem("entry", "Bundle.entry must be a list.", Code.INVALID_RESOURCE)]
    if len(entries) > MAX_ENTRIES:
        return [], [Problem("entry", f"More than {MAX_ENTRIES} entries: split it.", Code.TOO_LARGE)]
    problems: list[Problem] = []
    loaded: list[dict[str, Any]] = []
    for index, entry in enumerate(entries):
        where = f"entry[{index}]"
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            problems.append(Problem(where, "The entry has no resource.", Code.INVALID_RESOURCE))
            continue
        kind = resource["resourceType"]
        try:
            model = get_fhir_model_class(kind)
        except KeyError:
            problems.append(
                Problem(where, f"“{kind[:60]}” is not an R5 resource type.", Code.INVALID_RESOURCE)
            )
            continue
        try:
            model.model_validate(resource)
        except Exception as exc:  # pydantic's ValidationError: every element in error
            errors = getattr(exc, "errors", None)
            details = errors() if callable(errors) else []
            for detail in details[:20] or [{"loc": (), "msg": str(exc)}]:
                path = ".".join(str(p) for p in detail.get("loc", ()))
                problems.append(
                    Problem(
                        f"{where}.{kind}{'.' + path if path else ''}",
                        str(detail.get("msg", "invalid"))[:300],
                        Code.INVALID_RESOURCE,
                    )
                )
            continue
        loaded.append(
            {"fullUrl": entry.get("fullUrl") or "", "resource": resource, "location": where}
        )
    return loaded, problems


def _key(resource: dict[str, Any]) -> str:
    return f"{resource['resourceType']}/{resource.get('id', '')}"


def _codings(concept: Any) -> list[dict[str, Any]]:
    if not isinstance(concept, dict):
        return []
    return [c for c in concept.get("coding", []) if isinstance(c, dict)]


def _when(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
        except ValueError:
            return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _patient_fields(resource: dict[str, Any], where: str) -> tuple[dict[str, Any], list[Problem]]:
    problems = []
    names = resource.get("name") or []
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    family = (name.get("family") or "").strip()
    given = " ".join(name.get("given") or []).strip()
    if not family or not given:
        problems.append(
            Problem(f"{where}.name", "A family and a given name are needed.", Code.MISSING_ELEMENT)
        )
    born = resource.get("birthDate") or ""
    try:
        birth = date.fromisoformat(born)
    except ValueError:
        birth = None
        problems.append(
            Problem(
                f"{where}.birthDate",
                "A full date of birth (YYYY-MM-DD) is needed.",
                Code.MISSING_ELEMENT,
            )
        )
    telecom = resource.get("telecom") or []
    phone = next((t.get("value", "") for t in telecom if t.get("system") == "phone"), "")
    email = next((t.get("value", "") for t in telecom if t.get("system") == "email"), "")
    addresses = resource.get("address") or []
    address = ""
    if addresses:
        first = addresses[0]
        address = (
            first.get("text")
            or "\n".join(
                [
                    *first.get("line", []),
                    " ".join(filter(None, [first.get("postalCode"), first.get("city")])),
                ]
            ).strip()
        )
    gender = resource.get("gender")
    sex = Sex.FEMALE if gender == "female" else Sex.MALE if gender == "male" else Sex.OTHER
    return {
        "given_name": given[:80],
        "family_name": family[:80],
        "date_of_birth": birth,
        "sex": str(sex),
        "phone": phone[:32],
        "email": email,
        "address": address,
    }, problems


def _subject(
    resource: dict[str, Any], patients: dict[str, PlannedPatient]
) -> PlannedPatient | None:
    reference = (resource.get("subject") or {}).get("reference", "")
    return patients.get(reference)


@dataclass
class _Group:
    """Observations and at most one condition of one patient at one moment."""

    patient: PlannedPatient
    moment: datetime
    fields: dict[str, Any] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    has_condition: bool = False


def _observation(resource: dict[str, Any], where: str, group: _Group, report: ImportReport) -> None:
    for coding in _codings(resource.get("code")):
        system, code = coding.get("system"), coding.get("code", "")
        if system == codes.LOINC and code in codes.LAB_BY_LOINC:
            lab = codes.LAB_BY_LOINC[code]
            quantity = resource.get("valueQuantity") or {}
            unit = quantity.get("code") or quantity.get("unit")
            if quantity.get("value") is None:
                report.problems.append(
                    Problem(f"{where}.valueQuantity", "No value.", Code.MISSING_ELEMENT)
                )
                return
            if unit != lab.ucum:
                report.problems.append(
                    Problem(
                        f"{where}.valueQuantity",
                        f"{lab.display} must be in {lab.ucum} (UCUM), not “{unit}”: "
                        "convert it before importing.",
                        Code.WRONG_UNIT,
                    )
                )
                return
            try:
                group.fields[lab.field] = Decimal(str(quantity["value"]))
            except InvalidOperation:
                report.problems.append(
                    Problem(f"{where}.valueQuantity", "Not a number.", Code.INVALID_RESOURCE)
                )
                return
            group.sources.append(_key(resource))
            return
        if system == codes.code_system("anagen-hair-measures") and code in codes.HAIR_MEASURES:
            measure = codes.HAIR_MEASURES[code]
            if measure.unit is not None:  # measured from an image
                report.skipped.append(
                    Problem(
                        where,
                        f"{measure.display}: Anagen keeps hair measures with the trichoscopy "
                        "image they were measured on, which the Bundle does not carry.",
                        "image_measure",
                    )
                )
                return
            value = next(iter(_codings(resource.get("valueCodeableConcept"))), {}).get("code")
            if not value:
                report.problems.append(
                    Problem(
                        f"{where}.valueCodeableConcept", "No coded value.", Code.MISSING_ELEMENT
                    )
                )
                return
            if code == "hair-loss-pattern":
                group.fields["pattern"] = value
            else:
                target = _SCALE_FIELDS[code]
                group.fields[target] = (
                    int(value) if target == "sinclair" and value.isdecimal() else value
                )
            group.sources.append(_key(resource))
            return
    report.skipped.append(
        Problem(where, "An observation Anagen does not record (not a known code).", "unknown_code")
    )


def _plan(entries: list[dict[str, Any]], report: ImportReport) -> None:
    patients: dict[str, PlannedPatient] = {}
    for entry in entries:
        resource, where = entry["resource"], entry["location"]
        if resource["resourceType"] != "Patient":
            continue
        fields, problems = _patient_fields(resource, where)
        report.problems.extend(problems)
        planned = PlannedPatient(
            _key(resource), where, f"{fields['given_name']} {fields['family_name']}", fields
        )
        report.patients.append(planned)
        patients[_key(resource)] = planned
        if entry["fullUrl"]:
            patients[entry["fullUrl"]] = planned
    groups: dict[tuple[int, datetime], _Group] = {}
    for entry in entries:
        resource, where = entry["resource"], entry["location"]
        kind = resource["resourceType"]
        if kind == "Patient":
            continue
        if kind not in _IMPORTED:
            report.skipped.append(
                Problem(
                    where,
                    f"{kind}: Anagen imports patients, conditions and observations.",
                    "not_imported",
                )
            )
            continue
        patient = _subject(resource, patients)
        if patient is None:
            report.problems.append(
                Problem(
                    f"{where}.subject",
                    "The subject is not a Patient in this Bundle.",
                    Code.UNKNOWN_SUBJECT,
                )
            )
            continue
        text = (
            resource.get("recordedDate") or resource.get("onsetDateTime")
            if kind == "Condition"
            else resource.get("effectiveDateTime") or resource.get("issued")
        )
        moment = _when(text) if isinstance(text, str) else None
        if moment is None:
            element = "recordedDate" if kind == "Condition" else "effectiveDateTime"
            report.problems.append(
                Problem(
                    f"{where}.{element}", "When was this recorded? No date.", Code.MISSING_ELEMENT
                )
            )
            continue
        group = groups.setdefault((id(patient), moment), _Group(patient=patient, moment=moment))
        if kind == "Condition":
            icd = [
                c
                for c in _codings(resource.get("code"))
                if c.get("system") == codes.ICD10 and str(c.get("code", "")).startswith("L64")
            ]
            if not icd:
                report.skipped.append(
                    Problem(
                        where,
                        "Anagen records androgenic alopecia (ICD-10 L64) only.",
                        "other_condition",
                    )
                )
                continue
            group.has_condition = True
            group.sources.insert(0, _key(resource))
            onset = resource.get("onsetAge") or {}
            if onset.get("value") is not None:
                group.fields["onset_age_years"] = int(onset["value"])
        else:
            _observation(resource, where, group, report)
    _assessments(groups, report)


def _assessments(groups: dict[tuple[int, datetime], _Group], report: ImportReport) -> None:
    """Each diagnosis with its observations becomes an assessment; observations of a day
    without their own diagnosis join that day's one diagnosis of the patient."""
    by_day: dict[tuple[int, date], list[_Group]] = defaultdict(list)
    for group in groups.values():
        by_day[(id(group.patient), timezone.localtime(group.moment).date())].append(group)
    for day_groups in by_day.values():
        diagnosed = [g for g in day_groups if g.has_condition or "pattern" in g.fields]
        for orphan in (g for g in day_groups if g not in diagnosed):
            if len(diagnosed) == 1:
                target = diagnosed[0]
                for key, value in orphan.fields.items():
                    target.fields.setdefault(key, value)
                target.sources += orphan.sources
            elif orphan.sources:
                report.skipped.append(
                    Problem(
                        ", ".join(orphan.sources),
                        "Observations without a diagnosis of androgenic alopecia that day: "
                        "Anagen records them within an assessment.",
                        "no_diagnosis",
                    )
                )
        for group in diagnosed:
            fields = dict(group.fields)
            fields.setdefault("pattern", _PATTERN_BY_CONDITION)
            group.patient.assessments.append(PlannedAssessment(group.moment, fields, group.sources))
    for patient in report.patients:
        patient.assessments.sort(key=lambda a: a.assessed_at)


# --- writing through the services ---------------------------------------------------------


def _write(*, actor: User, site: Site, report: ImportReport) -> None:
    for planned in report.patients:
        try:
            patient: Patient = patient_create(actor=actor, site=site, **planned.fields)
        except ValidationError as exc:
            report.problems.extend(service_refusals(planned.location, exc))
            continue
        planned.mrn = patient.mrn
        for assessment in planned.assessments:
            notes = "Imported from a FHIR Bundle: " + ", ".join(assessment.sources)
            try:
                assessment_record(
                    actor=actor,
                    patient=patient,
                    assessed_at=assessment.assessed_at,
                    notes=notes[:8000],
                    **assessment.fields,
                )
            except ValidationError as exc:
                report.problems.extend(
                    service_refusals(", ".join(assessment.sources) or planned.location, exc)
                )


def _run(
    *, actor: User, site: Site, raw: bytes | str | dict[str, Any], dry_run: bool
) -> ImportReport:
    require(actor, Perm.FHIR_IMPORT)
    require_site_access(user=actor, site_id=site.pk)
    report = ImportReport(dry_run=dry_run)
    entries, problems = bundle_load(raw)
    report.problems.extend(problems)
    if problems:
        return report
    _plan(entries, report)
    if report.problems:
        return report
    write_all_or_nothing(lambda: _write(actor=actor, site=site, report=report), report)
    return report


def fhir_import_plan(*, actor: User, site: Site, raw: bytes | str | dict[str, Any]) -> ImportReport:
    """What importing ``raw`` at ``site`` would do, every service rule checked, nothing kept."""
    return _run(actor=actor, site=site, raw=raw, dry_run=True)


def fhir_import_apply(
    *, actor: User, site: Site, raw: bytes | str | dict[str, Any]
) -> ImportReport:
    """Import ``raw`` at ``site``: all of it, or (raising ``ImportRefused``) nothing."""
    report = _run(actor=actor, site=site, raw=raw, dry_run=False)
    if not report.ok:
        raise ImportRefused(report)
    return report
