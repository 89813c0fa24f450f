"""The code systems, identifier systems and units Anagen's FHIR resources use.

No LOINC code exists for hair density or shaft diameter, so the hair measures have a local
CodeSystem (``HAIR_MEASURES``, served at ``/fhir/CodeSystem/anagen-hair-measures``); laboratory
results carry their LOINC codes; quantities use UCUM. The local systems are namespace URIs under
``ANAGEN_FHIR_SYSTEM_BASE`` (``https://anagen.example/fhir`` unless a clinic sets its own); they
identify, they need not resolve.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PRODUCT_CATEGORY = "http://hl7.org/fhir/product-category"
PRODUCT_STATUS = "http://hl7.org/fhir/biologicallyderived-product-status"
DISPENSE_ORIGIN = (
    "http://hl7.org/fhir/CodeSystem/biologicallyderivedproductdispense-origin-relationship"
)
PRODUCT_PROPERTY_TYPE = "http://hl7.org/fhir/biologicallyderived-product-property-type-codes"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
AUDIT_ACTION = "http://hl7.org/fhir/audit-event-action"
# The official autologous example (BiologicallyDerivedProduct-autologousHCT) says "for
# autologous use only" with this ISBT 128 property; Anagen's product does the same.
ISBT_COLLECTION_TYPE = "https://www.isbt128.org/uri/CollectionType"

ICD10_ANDROGENIC_ALOPECIA = "L64"
ICD10_ANDROGENIC_ALOPECIA_DISPLAY = "Androgenic alopecia"


def base() -> str:
    return str(getattr(settings, "ANAGEN_FHIR_SYSTEM_BASE", "https://anagen.example/fhir"))


def system(name: str) -> str:
    """A local namespace URI, e.g. ``system("mrn")``."""
    return f"{base()}/sid/{name}"


def code_system(name: str) -> str:
    return f"{base()}/CodeSystem/{name}"


def extension(name: str) -> str:
    return f"{base()}/StructureDefinition/{name}"


@dataclass(frozen=True)
class Measure:
    """One hair measure: the local code, its display, and its UCUM unit (None: a coded value)."""

    code: str
    display: str
    unit: str | None
    ucum: str | None


#: The local CodeSystem of hair measures and hair-loss scales (``anagen-hair-measures``).
HAIR_MEASURES: dict[str, Measure] = {
    m.code: m
    for m in (
        Measure("hair-density", "Hair density (hairs per cm²)", "/cm2", "/cm2"),
        Measure("terminal-density", "Terminal hair density (per cm²)", "/cm2", "/cm2"),
        Measure("vellus-density", "Vellus hair density (per cm²)", "/cm2", "/cm2"),
        Measure("hair-count", "Hairs counted in the field", "{hairs}", "{hairs}"),
        Measure("terminal-count", "Terminal hairs counted", "{hairs}", "{hairs}"),
        Measure("vellus-count", "Vellus hairs counted", "{hairs}", "{hairs}"),
        Measure("mean-diameter", "Mean hair shaft diameter", "um", "um"),
        Measure("anagen-fraction", "Anagen (growing) hair fraction", "%", "%"),
        Measure(
            "cumulative-thickness", "Cumulative hair thickness (mm per cm²)", "mm/cm2", "mm/cm2"
        ),
        Measure("hair-loss-pattern", "Hair-loss pattern", None, None),
        Measure("norwood-hamilton", "Norwood-Hamilton stage", None, None),
        Measure("ludwig", "Ludwig stage", None, None),
        Measure("sinclair", "Sinclair scale", None, None),
        Measure("savin", "Savin scale", None, None),
    )
}

#: The scales that stage the condition (assessment field → measure code).
STAGE_SCALES = {
    "norwood": "norwood-hamilton",
    "ludwig": "ludwig",
    "sinclair": "sinclair",
    "savin": "savin",
}


@dataclass(frozen=True)
class Lab:
    field: str
    loinc: str
    display: str
    unit: str
    ucum: str


#: The assessment's laboratory results with their LOINC codes and UCUM units.
LABS: dict[str, Lab] = {
    lab.field: lab
    for lab in (
        Lab("ferritin", "2276-4", "Ferritin [Mass/volume] in Serum or Plasma", "µg/L", "ug/L"),
        Lab("tsh", "3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "mIU/L", "m[IU]/L"),
        Lab(
            "vitamin_d",
            "62292-8",
            "25-Hydroxyvitamin D2+D3 [Moles/volume] in Serum or Plasma",
            "nmol/L",
            "nmol/L",
        ),
        Lab("haemoglobin", "718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", "g/dL"),
    )
}
LAB_BY_LOINC = {lab.loinc: lab for lab in LABS.values()}


def hair_measures_code_system() -> dict[str, object]:
    """The local CodeSystem resource of the hair measures and scales."""
    return {
        "resourceType": "CodeSystem",
        "id": "anagen-hair-measures",
        "url": code_system("anagen-hair-measures"),
        "name": "AnagenHairMeasures",
        "title": "Anagen hair measures and hair-loss scales",
        "status": "active",
        "content": "complete",
        "caseSensitive": True,
        "description": "Trichometry measures (no LOINC code exists for hair density or shaft "
        "diameter) and the hair-loss scales Anagen records.",
        "concept": [{"code": m.code, "display": m.display} for m in HAIR_MEASURES.values()],
    }
