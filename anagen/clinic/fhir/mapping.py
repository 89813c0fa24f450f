"""Anagen's records as FHIR R5 resources (JSON dicts), one function per record kind.

Each ``*_resources`` function takes one stored record (read and scoped by ``selectors``) and
returns the resources it becomes; ``emit`` passes every one through its ``fhir.resources`` model,
so what leaves Anagen is what the R5 models accept (the tests also hold it against HL7's own
JSON Schema). Resource ids name their source: ``Observation/tri-12-hair-density`` is image 12's
density, ``Procedure/harvest-3`` harvest 3. References are relative (``Patient/7``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.urls import reverse
from fhir.resources import get_fhir_model_class

from anagen.clinic.accounts.models import Site, User
from anagen.clinic.assessment.models import Assessment
from anagen.clinic.audit.selectors import AuditEntry
from anagen.clinic.imaging.models import TrichoscopyImage
from anagen.clinic.intake.models import Appointment
from anagen.clinic.patients.models import Patient
from anagen.clinic.treatment.models import (
    AdverseEvent,
    CellProduct,
    Consent,
    Harvest,
    TreatmentPlan,
    TreatmentSession,
)
from anagen.identity.donation import InvalidIdentifier, parse_donation_id

from . import codes

Resource = dict[str, Any]


# --- helpers ------------------------------------------------------------------------------


def emit(resource: Resource) -> Resource:
    """The resource as its ``fhir.resources`` R5 model serialises it (raises if it is invalid)."""
    model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return dict(json.loads(model.model_dump_json(exclude_none=True)))


def ref(kind: str, ident: object, display: str = "") -> Resource:
    reference: Resource = {"reference": f"{kind}/{ident}"}
    if display:
        reference["display"] = display
    return reference


def _when(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    return value.isoformat()


def _num(value: Decimal | float | int) -> float | int:
    if isinstance(value, int):
        return value
    number = float(value)
    return int(number) if number.is_integer() and isinstance(value, Decimal) else number


def _quantity(value: Decimal | float | int, unit: str, ucum: str) -> Resource:
    return {"value": _num(value), "unit": unit, "system": codes.UCUM, "code": ucum}


def _concept(system: str, code: str, display: str) -> Resource:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _measure_concept(code: str) -> Resource:
    measure = codes.HAIR_MEASURES[code]
    return _concept(codes.code_system("anagen-hair-measures"), code, measure.display)


def _clean(resource: Resource) -> Resource:
    """Drop empty values (FHIR forbids empty strings, lists and objects)."""
    out: Resource = {}
    for key, value in resource.items():
        if isinstance(value, dict):
            value = _clean(value)
        elif isinstance(value, list):
            value = [_clean(v) if isinstance(v, dict) else v for v in value]
            value = [v for v in value if v not in (None, "", {}, [])]
        if value in (None, "", {}, []):
            continue
        out[key] = value
    return out


def _done(resource: Resource) -> Resource:
    return emit(_clean(resource))


def patient_ref(patient: Patient) -> Resource:
    return ref("Patient", patient.pk)


def practitioner_ref(user: User | None) -> Resource | None:
    if user is None:
        return None
    return ref("Practitioner", user.pk, user.display_name)


# --- people and places --------------------------------------------------------------------


def patient_resource(patient: Patient) -> Resource:
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone, "use": "home"})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    return _done(
        {
            "resourceType": "Patient",
            "id": str(patient.pk),
            "identifier": [
                {
                    "use": "usual",
                    "type": _concept(
                        "http://terminology.hl7.org/CodeSystem/v2-0203",
                        "MR",
                        "Medical record number",
                    ),
                    "system": codes.system("mrn"),
                    "value": patient.mrn,
                }
            ],
            "active": True,
            "name": [
                {"use": "official", "family": patient.family_name, "given": [patient.given_name]}
            ],
            "telecom": telecom,
            "gender": {"female": "female", "male": "male"}.get(patient.sex, "other"),
            "birthDate": patient.date_of_birth.isoformat(),
            "address": [{"text": patient.address}] if patient.address else [],
            "managingOrganization": ref("Organization", patient.site_id),
        }
    )


def practitioner_resource(user: User) -> Resource:
    name: Resource = {"text": user.display_name}
    if user.last_name:
        name["family"] = user.last_name
    if user.first_name:
        name["given"] = [user.first_name]
    return _done(
        {
            "resourceType": "Practitioner",
            "id": str(user.pk),
            "identifier": [{"system": codes.system("staff"), "value": str(user.pk)}],
            "active": user.is_active,
            "name": [name],
            "telecom": [{"system": "email", "value": user.email, "use": "work"}],
        }
    )


def organization_resource(site: Site) -> Resource:
    return _done(
        {
            "resourceType": "Organization",
            "id": str(site.pk),
            "identifier": [
                {"system": codes.system("site"), "value": site.code},
                {"system": codes.system("facility-code"), "value": site.facility_code},
            ],
            "active": True,
            "name": site.name,
            "contact": [
                {
                    "telecom": [
                        {"system": "phone", "value": site.phone} if site.phone else None,
                        {"system": "email", "value": site.email} if site.email else None,
                    ],
                    "address": {"text": site.address} if site.address else None,
                }
            ],
        }
    )


def location_resource(site: Site) -> Resource:
    return _done(
        {
            "resourceType": "Location",
            "id": str(site.pk),
            "identifier": [{"system": codes.system("site"), "value": site.code}],
            "status": "active",
            "name": site.name,
            "mode": "instance",
            "address": {"text": site.address} if site.address else None,
            "managingOrganization": ref("Organization", site.pk),
        }
    )


# --- assessment: the condition, its stage, the labs ---------------------------------------


def _assessment_observation(
    assessment: Assessment, suffix: str, code: Resource, value: Resource, category: str
) -> Resource:
    return _done(
        {
            "resourceType": "Observation",
            "id": f"asm-{assessment.pk}-{suffix}",
            "status": "final",
            "category": [
                _concept(codes.OBSERVATION_CATEGORY, category, category.replace("-", " ").title())
            ],
            "code": code,
            "subject": patient_ref(assessment.patient),
            "effectiveDateTime": _when(assessment.assessed_at),
            "performer": [practitioner_ref(assessment.assessed_by)],
            **value,
        }
    )


def _scale_value(scale: str, value: object) -> Resource:
    measure = codes.HAIR_MEASURES[scale]
    display = f"{measure.display.split(' ')[0]} {value}"
    return {"valueCodeableConcept": _concept(codes.code_system(scale), str(value), display)}


def assessment_observations(assessment: Assessment) -> list[Resource]:
    """The hair-loss pattern, each stage recorded and each laboratory result."""
    out = [
        _assessment_observation(
            assessment,
            "hair-loss-pattern",
            _measure_concept("hair-loss-pattern"),
            {
                "valueCodeableConcept": _concept(
                    codes.code_system("hair-loss-pattern"),
                    assessment.pattern,
                    assessment.get_pattern_display(),
                )
            },
            "exam",
        )
    ]
    for field, scale in codes.STAGE_SCALES.items():
        value = getattr(assessment, field)
        if value in (None, ""):
            continue
        out.append(
            _assessment_observation(
                assessment, scale, _measure_concept(scale), _scale_value(scale, value), "exam"
            )
        )
    for lab in codes.LABS.values():
        value = getattr(assessment, lab.field)
        if value is None:
            continue
        out.append(
            _assessment_observation(
                assessment,
                lab.field.replace("_", "-"),
                _concept(codes.LOINC, lab.loinc, lab.display),
                {"valueQuantity": _quantity(value, lab.unit, lab.ucum)},
                "laboratory",
            )
        )
    return out


def condition_resource(assessment: Assessment) -> Resource:
    """Androgenic alopecia (ICD-10 L64) as assessed, staged by the scales' Observations."""
    stages = [
        {
            "summary": _scale_value(scale, getattr(assessment, field))["valueCodeableConcept"],
            "assessment": [ref("Observation", f"asm-{assessment.pk}-{scale}")],
        }
        for field, scale in codes.STAGE_SCALES.items()
        if getattr(assessment, field) not in (None, "")
    ]
    onset: Resource = {}
    if assessment.onset_age_years is not None:
        onset["onsetAge"] = {
            "value": assessment.onset_age_years,
            "unit": "years",
            "system": codes.UCUM,
            "code": "a",
        }
    return _done(
        {
            "resourceType": "Condition",
            "id": f"asm-{assessment.pk}",
            "clinicalStatus": _concept(codes.CONDITION_CLINICAL, "active", "Active"),
            "verificationStatus": _concept(codes.CONDITION_VERIFICATION, "confirmed", "Confirmed"),
            "category": [
                _concept(codes.CONDITION_CATEGORY, "encounter-diagnosis", "Encounter Diagnosis")
            ],
            "code": _concept(
                codes.ICD10,
                codes.ICD10_ANDROGENIC_ALOPECIA,
                codes.ICD10_ANDROGENIC_ALOPECIA_DISPLAY,
            ),
            "bodySite": [{"text": "Scalp"}],
            "subject": patient_ref(assessment.patient),
            **onset,
            "recordedDate": _when(assessment.assessed_at),
            "participant": [{"actor": practitioner_ref(assessment.assessed_by)}],
            "stage": stages,
            "evidence": [
                {"reference": ref("Observation", f"asm-{assessment.pk}-hair-loss-pattern")}
            ],
        }
    )


def assessment_resources(assessment: Assessment) -> list[Resource]:
    return [condition_resource(assessment), *assessment_observations(assessment)]


# --- intake -------------------------------------------------------------------------------

_APPOINTMENT_STATUS = {
    "booked": "booked",
    "arrived": "arrived",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
}


def appointment_resource(appointment: Appointment) -> Resource:
    return _done(
        {
            "resourceType": "Appointment",
            "id": str(appointment.pk),
            "status": _APPOINTMENT_STATUS[appointment.status],
            "serviceType": [{"concept": {"text": appointment.get_kind_display()}}],
            "description": appointment.get_kind_display(),
            "start": _when(appointment.starts_at),
            "end": _when(appointment.ends_at),
            "minutesDuration": appointment.duration_minutes,
            "subject": patient_ref(appointment.patient),
            "participant": [
                {"actor": patient_ref(appointment.patient), "status": "accepted"},
                {"actor": practitioner_ref(appointment.clinician), "status": "accepted"},
                {"actor": ref("Location", appointment.site_id), "status": "accepted"},
            ],
        }
    )


def encounter_resource(appointment: Appointment) -> Resource | None:
    """The visit that took place (arrived or completed appointments only)."""
    if appointment.status not in (Appointment.Status.ARRIVED, Appointment.Status.COMPLETED):
        return None
    finished = appointment.status == Appointment.Status.COMPLETED
    return _done(
        {
            "resourceType": "Encounter",
            "id": str(appointment.pk),
            "status": "completed" if finished else "in-progress",
            "class": [
                _concept("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", "ambulatory")
            ],
            "type": [{"text": appointment.get_kind_display()}],
            "subject": patient_ref(appointment.patient),
            "appointment": [ref("Appointment", appointment.pk)],
            "participant": [{"actor": practitioner_ref(appointment.clinician)}],
            "actualPeriod": {
                "start": _when(appointment.starts_at),
                "end": _when(appointment.ends_at) if finished else None,
            },
            "location": [{"location": ref("Location", appointment.site_id)}],
            "serviceProvider": ref("Organization", appointment.site_id),
        }
    )


def appointment_resources(appointment: Appointment) -> list[Resource]:
    encounter = encounter_resource(appointment)
    return [appointment_resource(appointment), *([encounter] if encounter else [])]


# --- treatment ----------------------------------------------------------------------------

_PLAN_STATUS = {
    "awaiting_consent": "draft",
    "consented": "active",
    "in_treatment": "active",
    "completed": "completed",
    "cancelled": "revoked",
}


def careplan_resource(plan: TreatmentPlan) -> Resource:
    zones = ", ".join(str(z).replace("_", " ") for z in plan.target_zones)
    return _done(
        {
            "resourceType": "CarePlan",
            "id": str(plan.pk),
            "status": _PLAN_STATUS[plan.status],
            "intent": "plan",
            "title": f"{plan.get_method_display()}, {plan.planned_sessions} sessions",
            "description": (
                f"{plan.protocol.name}: {plan.planned_sessions} sessions every "
                f"{plan.interval_weeks} weeks into {zones or 'the planned zones'}; "
                f"{plan.planned_dose_cells:,} viable cells per session. Investigational therapy."
            ),
            "subject": patient_ref(plan.patient),
            "created": _when(plan.created_at),
            "custodian": practitioner_ref(plan.created_by),
            "activity": [
                {"performedActivity": [{"concept": {"text": f"Session {s.session_number}"}}]}
                for s in plan.sessions.all()
            ]
            + [
                {
                    "plannedActivityReference": ref(
                        "Appointment", v.appointment_id, f"{v.label} due {v.due_on.isoformat()}"
                    )
                }
                for v in plan.scheduled_visits.all()
                if v.appointment_id
            ],
        }
    )


def consent_resources(consent: Consent) -> list[Resource]:
    patient = consent.plan.patient
    document = _done(
        {
            "resourceType": "DocumentReference",
            "id": f"consent-{consent.pk}",
            "status": "current",
            "docStatus": "final",
            "type": {"text": "Signed consent to investigational cell therapy"},
            "subject": patient_ref(patient),
            "date": _when(consent.signed_at),
            "author": [practitioner_ref(consent.witnessed_by)],
            "description": f"{consent.consent_text.title} v{consent.consent_text.version}",
            "content": [
                {
                    "attachment": {
                        "contentType": "application/pdf",
                        "url": reverse("treatment:consent_pdf", kwargs={"pk": consent.pk}),
                        "title": f"Consent v{consent.consent_text.version}",
                    }
                }
            ],
            "identifier": [{"system": codes.system("sha256"), "value": consent.snapshot_sha256}],
        }
    )
    resource = _done(
        {
            "resourceType": "Consent",
            "id": str(consent.pk),
            "status": "inactive" if consent.withdrawn_at else "active",
            "category": [{"text": "Treatment consent (investigational)"}],
            "subject": patient_ref(patient),
            "date": consent.signed_at.date().isoformat(),
            "period": {
                "start": _when(consent.signed_at),
                "end": _when(consent.withdrawn_at),
            },
            "grantor": [patient_ref(patient)],
            "sourceReference": [ref("DocumentReference", f"consent-{consent.pk}")],
            "regulatoryBasis": [{"text": consent.meaning}],
            "verification": [
                {
                    "verified": True,
                    "verifiedBy": practitioner_ref(consent.witnessed_by),
                    "verificationDate": [_when(consent.signed_at)],
                }
            ],
            "decision": "permit",
            "provision": [{"purpose": [{"system": codes.ACT_CODE, "code": "TREAT"}]}],
        }
    )
    return [resource, document]


def _procedure(
    ident: str,
    patient: Patient,
    text: str,
    start: datetime,
    end: datetime | None,
    performers: Iterable[User],
    **extra: Any,
) -> Resource:
    return _done(
        {
            "resourceType": "Procedure",
            "id": ident,
            "status": "completed",
            "code": {"text": text},
            "subject": patient_ref(patient),
            "occurrencePeriod": {"start": _when(start), "end": _when(end)} if end else None,
            "occurrenceDateTime": None if end else _when(start),
            "performer": [{"actor": practitioner_ref(u)} for u in performers],
            **extra,
        }
    )


def _is_punch(harvest: Harvest) -> bool:
    return harvest.site.endswith("_punch")


def donation_identifier(harvest: Harvest) -> Resource:
    """The donation identifier with its check character (value: compact; display form too)."""
    try:
        donation = parse_donation_id(harvest.donation_code)
        display = donation.display
    except InvalidIdentifier:
        display = harvest.donation_code
    return {
        "use": "official",
        "system": codes.system("donation-identifier"),
        "value": harvest.donation_code,
        "type": {
            "text": f"Donation identifier {display} (last character: ISO 7064 MOD 37-2 check)"
        },
    }


def harvest_resources(harvest: Harvest) -> list[Resource]:
    punch = _is_punch(harvest)
    kind = "Scalp punch biopsy" if punch else "Mini-liposuction (adipose harvest)"
    procedure = _procedure(
        f"harvest-{harvest.pk}",
        harvest.patient,
        kind,
        harvest.performed_at,
        None,
        [harvest.operator],
        bodySite=[{"text": harvest.get_site_display()}],
        basedOn=[ref("CarePlan", harvest.plan_id)],
        note=[{"text": f"Anaesthesia: {harvest.anaesthesia}"}],
        identifier=[donation_identifier(harvest)],
    )
    specimen = _done(
        {
            "resourceType": "Specimen",
            "id": str(harvest.pk),
            "identifier": [donation_identifier(harvest)],
            "accessionIdentifier": {
                "system": codes.system("donation-identifier"),
                "value": harvest.donation_code,
            },
            "status": "available",
            "type": {"text": "Scalp tissue (punch)" if punch else "Lipoaspirate"},
            "subject": patient_ref(harvest.patient),
            "collection": {
                "collector": practitioner_ref(harvest.operator),
                "collectedDateTime": _when(harvest.performed_at),
                "quantity": None if punch else _quantity(harvest.volume_ml, "mL", "mL"),
                "method": {"text": kind},
                "procedure": ref("Procedure", f"harvest-{harvest.pk}"),
                "bodySite": {"concept": {"text": harvest.get_site_display()}},
            },
            "note": [{"text": f"Cannula or punch size {harvest.cannula_or_punch_mm} mm"}],
        }
    )
    return [procedure, specimen]


_AVAILABLE = {CellProduct.Status.RELEASED, CellProduct.Status.STORED, CellProduct.Status.THAWED}


def _property(code: str, display: str, **value: Any) -> Resource:
    return {"type": _concept(codes.code_system("product-property"), code, display), **value}


def product_resource(product: CellProduct) -> Resource:
    """The cell product: donation identifier (with check character), processing, storage,
    "for autologous use only" (the official autologous example's property)."""
    harvest = product.harvest
    properties: list[Resource] = [
        {
            "type": {
                "coding": [
                    {
                        "system": codes.PRODUCT_PROPERTY_TYPE,
                        "code": "collectiontype",
                        "display": "Collection Type",
                    }
                ]
            },
            "valueCodeableConcept": {
                "coding": [
                    {
                        "system": codes.ISBT_COLLECTION_TYPE,
                        "code": "1",
                        "display": "For Autologous Use Only",
                    }
                ],
                "text": "For autologous use only",
            },
        },
        _property(
            "processing-method",
            "Processing method",
            valueCodeableConcept={"text": product.get_method_display()},
        ),
        _property(
            "processing-period",
            "Processing",
            valuePeriod={
                "start": _when(product.processing_started_at),
                "end": _when(product.processing_ended_at),
            },
        ),
        _property(
            "storage",
            "Storage",
            valueCodeableConcept={"text": product.get_storage_display()},
        ),
        _property("location", "Storage location", valueString=product.location),
        _property(
            "status", "Anagen status", valueCodeableConcept={"text": product.get_status_display()}
        ),
    ]
    if product.total_nucleated_cells is not None:
        properties.append(
            _property(
                "total-nucleated-cells",
                "Total nucleated cells",
                valueQuantity=_quantity(product.total_nucleated_cells, "cells", "{cells}"),
            )
        )
    if product.viable_cells is not None:
        properties.append(
            _property(
                "viable-cells",
                "Viable cells",
                valueQuantity=_quantity(product.viable_cells, "cells", "{cells}"),
            )
        )
    if product.viable_fraction is not None:
        properties.append(
            _property(
                "viability",
                "Viability",
                valueQuantity=_quantity(product.viable_fraction * 100, "%", "%"),
            )
        )
    if product.volume_ml is not None:
        properties.append(
            _property("volume", "Volume", valueQuantity=_quantity(product.volume_ml, "mL", "mL"))
        )
    for field in ("qc_sterility", "qc_endotoxin", "qc_mycoplasma"):
        label = str(getattr(CellProduct._meta.get_field(field), "verbose_name", field))
        properties.append(
            _property(
                field.replace("_", "-"),
                label,
                valueCodeableConcept={"text": getattr(product, f"get_{field}_display")()},
            )
        )
    cryo = product.storage == CellProduct.Storage.CRYO
    return _done(
        {
            "resourceType": "BiologicallyDerivedProduct",
            "id": str(product.pk),
            "productCategory": {
                "system": codes.PRODUCT_CATEGORY,
                "code": "cells",
                "display": "Cells",
            },
            "productCode": _concept(
                codes.code_system("cell-product-method"),
                product.method,
                f"Autologous {product.get_method_display()}",
            ),
            "parent": [ref("BiologicallyDerivedProduct", product.parent_id)]
            if product.parent_id
            else [],
            "identifier": [
                {
                    "system": codes.system("product-identifier"),
                    "value": product.product_code,
                }
            ],
            "biologicalSourceEvent": {
                "system": codes.system("donation-identifier"),
                "value": harvest.donation_code,
            },
            "processingFacility": [ref("Organization", product.patient.site_id)],
            "division": f"{product.product_number:02d}",
            "productStatus": {
                "system": codes.PRODUCT_STATUS,
                "code": "available" if product.status in _AVAILABLE else "unavailable",
            },
            "expirationDate": _when(product.expires_at),
            "collection": {
                "collector": practitioner_ref(harvest.operator),
                "source": patient_ref(product.patient),
                "collectedDateTime": _when(harvest.performed_at),
            },
            "storageTempRequirements": {
                "high": {"value": -135, "unit": "Cel", "system": codes.UCUM, "code": "Cel"}
            }
            if cryo
            else {
                "low": {"value": 2, "unit": "Cel", "system": codes.UCUM, "code": "Cel"},
                "high": {"value": 8, "unit": "Cel", "system": codes.UCUM, "code": "Cel"},
            },
            "property": properties,
        }
    )


def session_resources(session: TreatmentSession) -> list[Resource]:
    """The injection session (Procedure) and the return of the product to its own patient
    (BiologicallyDerivedProductDispense, origin autologous)."""
    zones = [
        f"{z.get_zone_display()}: {z.points} points × {z.volume_per_point_ml} mL, "
        f"{z.cells_per_point:,} cells per point"
        for z in session.zones.all()
    ]
    procedure = _procedure(
        f"session-{session.pk}",
        session.patient,
        f"Scalp micro-injection of autologous cells, session {session.session_number}",
        session.started_at,
        session.ended_at,
        [session.performed_by, session.verified_by],
        bodySite=[{"text": z.get_zone_display()} for z in session.zones.all()],
        basedOn=[ref("CarePlan", session.plan_id)],
        used=[{"reference": ref("BiologicallyDerivedProduct", session.product_id)}],
        note=[{"text": line} for line in zones],
    )
    dispense = _done(
        {
            "resourceType": "BiologicallyDerivedProductDispense",
            "id": str(session.pk),
            "basedOn": [],
            "partOf": [ref("Procedure", f"session-{session.pk}")],
            "status": "issued",
            "originRelationshipType": _concept(codes.DISPENSE_ORIGIN, "autologous", "Autologous"),
            "product": ref("BiologicallyDerivedProduct", session.product_id),
            "patient": patient_ref(session.patient),
            "matchStatus": {
                "text": f"Identity checked: product {session.scanned_product_code} "
                f"scanned against MRN {session.scanned_mrn}"
            },
            "performer": [
                {
                    "function": {"text": "Administered"},
                    "actor": practitioner_ref(session.performed_by),
                },
                {"function": {"text": "Verified"}, "actor": practitioner_ref(session.verified_by)},
            ],
            "location": ref("Location", session.patient.site_id),
            "quantity": _quantity(session.total_volume_ml, "mL", "mL"),
            "preparedDate": _when(session.product.processing_ended_at),
            "whenHandedOver": _when(session.started_at),
            "destination": patient_ref(session.patient),
            "usageInstruction": "For autologous use only: scalp micro-injection.",
        }
    )
    return [procedure, dispense]


_AE_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"


def adverse_event_resource(event: AdverseEvent) -> Resource:
    suspects = []
    if event.session_id:
        suspects.append({"instanceReference": ref("Procedure", f"session-{event.session_id}")})
    if event.harvest_id:
        suspects.append({"instanceReference": ref("Procedure", f"harvest-{event.harvest_id}")})
    return _done(
        {
            "resourceType": "AdverseEvent",
            "id": str(event.pk),
            "status": "completed" if event.resolved_on else "in-progress",
            "actuality": "actual",
            "code": {"text": event.get_type_display()},
            "subject": patient_ref(event.patient),
            "occurrenceDateTime": _when(event.onset_on),
            "recordedDate": _when(event.reported_at),
            "recorder": practitioner_ref(event.reported_by),
            "resultingEffect": [],
            "location": None,
            "seriousness": {"text": f"CTCAE grade {event.get_grade_display()}"},
            "outcome": [
                _concept(_AE_OUTCOME, "resolved", "Resolved")
                if event.resolved_on
                else _concept(_AE_OUTCOME, "ongoing", "Ongoing")
            ],
            "suspectEntity": [
                {
                    **s,
                    "causality": {"entityRelatedness": {"text": event.get_relatedness_display()}},
                }
                for s in suspects
            ],
            "extension": [
                {"url": codes.extension("ctcae-grade"), "valueInteger": event.grade},
                {"url": codes.extension("event-site"), "valueString": event.get_site_display()},
            ]
            + (
                [{"url": codes.extension("resolved-on"), "valueDate": _when(event.resolved_on)}]
                if event.resolved_on
                else []
            ),
            "note": [{"text": t} for t in (event.description, event.action_taken) if t],
        }
    )


# --- imaging: trichoscopy measures --------------------------------------------------------


def trichoscopy_document(image: TrichoscopyImage) -> Resource:
    return _done(
        {
            "resourceType": "DocumentReference",
            "id": f"tri-{image.pk}",
            "status": "current",
            "type": {"text": "Trichoscopy image"},
            "subject": patient_ref(image.visit.patient),
            "date": _when(image.uploaded_at),
            "author": [practitioner_ref(image.uploaded_by)],
            "bodySite": [{"concept": {"text": image.target_site.get_zone_display()}}],
            "description": f"{image.target_site.get_zone_display()}: "
            f"{image.target_site.description} ({image.device})",
            "content": [
                {
                    "attachment": {
                        "contentType": "image/png",
                        "url": reverse(
                            "imaging:trichoscopy_file", kwargs={"pk": image.pk, "kind": "image"}
                        ),
                        "title": f"Trichoscopy {image.visit.taken_on.isoformat()}",
                    }
                }
            ],
        }
    )


def trichoscopy_values(image: TrichoscopyImage) -> dict[str, float | int]:
    """The measures of one analysed image, corrected counts where a clinician corrected."""
    if image.status != TrichoscopyImage.Status.ANALYSED or image.result is None:
        values: dict[str, float | int] = {}
    else:
        counts = image.corrected_counts() or {}
        area = image.area_cm2 or 0
        values = {
            "hair-count": counts.get("hair_count", image.hair_count) or 0,
            "terminal-count": counts.get("terminal_count", image.terminal_count) or 0,
            "vellus-count": counts.get("vellus_count", image.vellus_count) or 0,
        }
        if area:
            values["hair-density"] = values["hair-count"] / area
            values["terminal-density"] = values["terminal-count"] / area
            values["vellus-density"] = values["vellus-count"] / area
        if image.mean_diameter_um is not None:
            values["mean-diameter"] = image.mean_diameter_um
        if image.cumulative_thickness_mm_per_cm2 is not None:
            values["cumulative-thickness"] = image.cumulative_thickness_mm_per_cm2
    if image.anagen_fraction is not None:
        values["anagen-fraction"] = image.anagen_fraction * 100
    return {k: v for k, v in values.items() if v is not None}


def trichoscopy_resources(image: TrichoscopyImage) -> list[Resource]:
    document = trichoscopy_document(image)
    out = [document]
    derived = [ref("DocumentReference", f"tri-{image.pk}")]
    if image.regrowth_of_id:
        derived.append(ref("DocumentReference", f"tri-{image.regrowth_of_id}"))
    for code, value in trichoscopy_values(image).items():
        measure = codes.HAIR_MEASURES[code]
        assert measure.unit is not None and measure.ucum is not None
        out.append(
            _done(
                {
                    "resourceType": "Observation",
                    "id": f"tri-{image.pk}-{code}",
                    "status": "amended" if image.is_corrected else "final",
                    "category": [_concept(codes.OBSERVATION_CATEGORY, "imaging", "Imaging")],
                    "code": _measure_concept(code),
                    "subject": patient_ref(image.visit.patient),
                    "effectiveDateTime": image.visit.taken_on.isoformat(),
                    "issued": _when(image.analysed_at),
                    "valueQuantity": _quantity(round(float(value), 3), measure.unit, measure.ucum),
                    "bodySite": {"text": image.target_site.get_zone_display()},
                    "method": {
                        "text": f"Automated trichometry {image.algorithm_version}"
                        + (", corrected by a clinician" if image.is_corrected else "")
                    },
                    "derivedFrom": derived,
                }
            )
        )
    return out


# --- audit trail --------------------------------------------------------------------------

_AUDIT_ACTION = {"created": "C", "changed": "U", "deleted": "D"}


def audit_event_id(entry: AuditEntry) -> str:
    key = f"{entry.when.isoformat()}|{entry.kind}|{entry.record}|{entry.action}|{entry.who}"
    return "ae-" + hashlib.sha256(key.encode()).hexdigest()[:32]


def audit_event_resource(entry: AuditEntry, patient: Patient) -> Resource:
    changes = "; ".join(
        f"{c.label}: {c.old} → {c.new}" if c.old is not None else f"{c.label}: {c.new}"
        for c in entry.changes
    )
    return _done(
        {
            "resourceType": "AuditEvent",
            "id": audit_event_id(entry),
            "category": [_concept(codes.DICOM, "110110", "Patient Record")],
            "code": {"text": f"{entry.record} {entry.action}"},
            "action": _AUDIT_ACTION.get(entry.action, "E"),
            "recorded": _when(entry.when),
            "outcome": {
                "code": {
                    "system": "http://terminology.hl7.org/CodeSystem/audit-event-outcome",
                    "code": "0",
                    "display": "Success",
                }
            },
            "patient": patient_ref(patient),
            "agent": [{"who": {"display": entry.who or "system"}}],
            "source": {"observer": {"display": "Anagen audit trail"}},
            "entity": [
                {
                    "what": patient_ref(patient),
                    "detail": [
                        {"type": {"text": "record"}, "valueString": entry.record},
                        {"type": {"text": "changes"}, "valueString": changes[:4000]}
                        if changes
                        else None,
                        {"type": {"text": "reason"}, "valueString": entry.reason}
                        if entry.reason
                        else None,
                    ],
                }
            ],
        }
    )
