"""HL7's official FHIR R5 definitions and examples (the npm packages in package.json).

``make setup`` installs them with ``npm ci`` into ``node_modules/``. Outside CI a missing
package skips the tests that need it, with the command to run; under CI=true it fails them
(the suite's rule for real parts, tests/conftest.py).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import pytest
from fhir.resources import get_fhir_model_class
from jsonschema import Draft6Validator

ROOT = Path(__file__).resolve().parents[3]
CORE = ROOT / "node_modules" / "hl7.fhir.r5.core"
EXAMPLES = ROOT / "node_modules" / "hl7.fhir.r5.examples"


def package(path: Path) -> Path:
    """The installed package's folder, or a failure (CI) / skip naming how to install it."""
    manifest = path / "package.json"
    if manifest.exists() and json.loads(manifest.read_text())["version"] == "5.0.0":
        return path
    reason = f"{path.name}@5.0.0 is not installed in node_modules (run `make setup`, or `npm ci`)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@functools.cache
def _definitions() -> dict:
    schema = json.loads((package(CORE) / "openapi" / "fhir.schema.json").read_text())
    return schema["definitions"]


@functools.cache
def _validator(kind: str) -> Draft6Validator:
    """HL7's schema narrowed to one resource type (its top-level ``oneOf`` over every type
    would only say "not valid under any of the given schemas")."""
    definitions = _definitions()
    if kind not in definitions:
        raise AssertionError(f"{kind} is not an R5 resource type")
    return Draft6Validator({"definitions": definitions, "$ref": f"#/definitions/{kind}"})


def schema_errors(resource: dict) -> list[str]:
    """What HL7's R5 JSON Schema finds wrong with ``resource`` (empty: valid)."""
    validator = _validator(resource.get("resourceType", ""))
    return [
        f"{resource.get('resourceType')}/{resource.get('id')} "
        f"at {'/'.join(map(str, error.absolute_path))}: {error.message[:300]}"
        for error in validator.iter_errors(resource)
    ]


def model_errors(resource: dict) -> list[str]:
    """What the ``fhir.resources`` R5 model finds wrong with ``resource``."""
    try:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    except Exception as exc:  # pydantic's ValidationError, or an unknown resourceType
        return [f"{resource.get('resourceType')}/{resource.get('id')}: {exc}"]
    return []


def example(name: str) -> dict:
    return json.loads((package(EXAMPLES) / f"{name}.json").read_text())


def element_paths(value, prefix: str = "") -> set[str]:
    """The element paths a resource uses (``collection.source``, ``property.valueCodeableConcept``),
    list positions and primitive values left out: the structure, not the content."""
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            paths.add(path)
            paths |= element_paths(item, path)
    elif isinstance(value, list):
        for item in value:
            paths |= element_paths(item, prefix)
    return paths


@functools.cache
def _code_systems() -> dict[str, frozenset[str]]:
    """Every CodeSystem of the core package: url → its codes (nested concepts included)."""

    def codes_of(concepts: list) -> set[str]:
        found: set[str] = set()
        for concept in concepts:
            found.add(concept["code"])
            found |= codes_of(concept.get("concept", []))
        return found

    systems = {}
    for path in package(CORE).glob("CodeSystem-*.json"):
        system = json.loads(path.read_text())
        if system.get("content") == "complete":
            systems[system["url"]] = frozenset(codes_of(system.get("concept", [])))
    return systems


@functools.cache
def _value_set(url: str) -> frozenset[str] | None:
    """The codes of a core ValueSet, or None if it is not a plain list of codes or systems."""
    path = package(CORE) / f"ValueSet-{url.split('|')[0].rsplit('/', 1)[-1]}.json"
    if not path.exists():
        return None
    compose = json.loads(path.read_text()).get("compose", {})
    codes: set[str] = set()
    for include in compose.get("include", []):
        if include.get("filter") or include.get("valueSet"):
            return None
        if include.get("concept"):
            codes |= {c["code"] for c in include["concept"]}
        elif include.get("system") in _code_systems():
            codes |= _code_systems()[include["system"]]
        else:
            return None
    return frozenset(codes) if codes and not compose.get("exclude") else None


def _at(value, steps: list[str]) -> list:
    if not steps:
        return value if isinstance(value, list) else [value]
    found = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict) and steps[0] in item:
            found += _at(item[steps[0]], steps[1:])
    return found


def binding_errors(resource: dict) -> list[str]:
    """Codes outside the value sets HL7's StructureDefinition binds as *required* (elements of
    type ``code`` whose value set is a plain list or whole code systems: the JSON Schema does
    not check them)."""
    kind = resource["resourceType"]
    definition = json.loads((package(CORE) / f"StructureDefinition-{kind}.json").read_text())
    errors = []
    for element in definition["snapshot"]["element"]:
        binding = element.get("binding", {})
        types = {t.get("code") for t in element.get("type", [])}
        if binding.get("strength") != "required" or types != {"code"} or "[x]" in element["path"]:
            continue
        allowed = _value_set(binding.get("valueSet", ""))
        if allowed is None:
            continue
        for code in _at(resource, element["path"].split(".")[1:]):
            if code not in allowed:
                errors.append(f"{kind}/{resource.get('id')} {element['path']}: {code!r}")
    return errors
