"""Bundles and the CapabilityStatement: what wraps the resources ``resources`` returns."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings

from anagen.clinic.common import clock

from . import mapping
from .resources import TYPES, SearchResult

Resource = dict[str, Any]

#: The search parameters each type supports beyond ``_id``, ``patient`` and ``subject``.
SEARCH_PARAMS: dict[str, list[tuple[str, str]]] = {
    "Patient": [
        ("identifier", "token"),
        ("name", "string"),
        ("family", "string"),
        ("given", "string"),
        ("birthdate", "date"),
    ],
    "Observation": [("code", "token"), ("category", "token")],
    "Condition": [("code", "token")],
}
_NOT_BY_PATIENT = {"Practitioner", "Organization", "Location", "CodeSystem"}


def export_base() -> str:
    """The base URL written into Bundles made outside a request (``export_fhir``)."""
    return str(getattr(settings, "ANAGEN_FHIR_BASE_URL", "http://127.0.0.1:8000/fhir/"))


def _entry(base: str, resource: Resource, mode: str | None = None) -> Resource:
    entry: Resource = {
        "fullUrl": f"{base}{resource['resourceType']}/{resource['id']}",
        "resource": resource,
    }
    if mode:
        entry["search"] = {"mode": mode}
    return entry


def everything_bundle(base: str, resources: list[Resource]) -> Resource:
    """``Patient/{id}/$everything``: a searchset, the patient first."""
    return mapping.emit(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "timestamp": clock.now().isoformat(),
            "total": len(resources),
            "link": [],
            "entry": [_entry(base, r, "match") for r in resources],
        }
        if resources
        else {"resourceType": "Bundle", "type": "searchset", "total": 0}
    )


def searchset(
    base: str,
    kind: str,
    params: dict[str, str],
    result: SearchResult,
    self_url: str,
    *,
    linkable: bool = True,
) -> Resource:
    """A searchset Bundle; ``linkable=False`` (a search by POST) leaves out the ``next`` link,
    which would put the search terms in a URL."""
    links = [{"relation": "self", "url": self_url}]
    if result.next_offset is not None and linkable:
        following = {**params, "_offset": str(result.next_offset)}
        links.append({"relation": "next", "url": f"{base}{kind}?{urlencode(following)}"})
    bundle: Resource = {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": clock.now().isoformat(),
        "link": links,
    }
    if result.total is not None:
        bundle["total"] = result.total
    if result.resources:
        bundle["entry"] = [_entry(base, r, "match") for r in result.resources]
    return mapping.emit(bundle)


def capability_statement(base: str) -> Resource:
    everything_op = {
        "name": "everything",
        "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
        "documentation": "Every record of the patient the reader may see, with the staff and "
        "site they reference.",
    }
    rest_resources = []
    for kind in TYPES:
        params = [{"name": "_id", "type": "token"}]
        if kind not in _NOT_BY_PATIENT:
            params += [
                {"name": "patient", "type": "reference"},
                {"name": "subject", "type": "reference"},
            ]
        params += [{"name": n, "type": t} for n, t in SEARCH_PARAMS.get(kind, [])]
        entry: Resource = {
            "type": kind,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "versioning": "no-version",
            "readHistory": False,
            "updateCreate": False,
            "searchParam": params,
        }
        if kind == "Patient":
            entry["operation"] = [everything_op]
        if kind == "AuditEvent":
            entry["documentation"] = "Search by patient: the patient's audit trail."
        rest_resources.append(entry)
    return mapping.emit(
        {
            "resourceType": "CapabilityStatement",
            "id": "anagen",
            "url": f"{base}metadata",
            "name": "AnagenFHIRServer",
            "title": "Anagen clinic FHIR R5 server",
            "status": "active",
            "experimental": False,
            "date": clock.now().date().isoformat(),
            "publisher": "Anagen",
            "description": "Read and search of an autologous cell-therapy hair clinic's records.",
            "kind": "instance",
            "software": {"name": "Anagen"},
            "implementation": {"description": "Anagen", "url": base},
            "fhirVersion": "5.0.0",
            "format": ["json"],
            "rest": [
                {
                    "mode": "server",
                    "security": {
                        "cors": False,
                        "description": "Signed-in staff (the clinic's session); what each "
                        "role reads is the clinic's access policy, scoped to the sites the "
                        "reader works at.",
                    },
                    "resource": rest_resources,
                    "operation": [everything_op],
                }
            ],
        }
    )
