"""Every resource Anagen emits holds against HL7's R5 JSON Schema and the fhir.resources models."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from django.core.management import call_command

from anagen.clinic.accounts.roles import Role
from anagen.clinic.fhir import resources

from . import hl7

pytestmark = pytest.mark.django_db


def _everything(client, user, patient) -> dict:
    client.force_login(user)
    response = client.get(f"/fhir/Patient/{patient.pk}/$everything")
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/fhir+json")
    return response.json()


def test_everything_resource_is_valid_r5(client, world):
    bundle = _everything(client, world["staff"][Role.AUDITOR], world["objects"]["patient"])
    assert hl7.schema_errors(bundle) == []
    assert hl7.model_errors(bundle) == []
    kinds = Counter(entry["resource"]["resourceType"] for entry in bundle["entry"])
    # One of every kind the world holds (the auditor reads every source).
    expected = set(resources.TYPES) - {"CodeSystem"}
    assert expected <= set(kinds), expected - set(kinds)
    errors = []
    for entry in bundle["entry"]:
        errors += hl7.schema_errors(entry["resource"])
    assert errors == []
