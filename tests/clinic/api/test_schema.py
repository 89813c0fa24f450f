"""The OpenAPI schema: valid, complete (no warnings), and the API keeps to it under
schemathesis (generated requests against the in-process WSGI app): no server error, every
response as documented, unauthenticated and wrong-role calls refused."""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS
from schemathesis.specs.openapi import checks as _openapi_checks  # noqa: F401 (registers them)

from anagen.clinic.accounts.roles import Role
from anagen.clinic.wsgi import application
from tests.clinic.world import build_world

from .conftest import token_for

#: Examples per operation (kept small so ``make test`` stays quick; raise it locally to dig).
MAX_EXAMPLES = int(os.environ.get("ANAGEN_SCHEMATHESIS_EXAMPLES", "4"))


def test_schema_validates_without_warnings(tmp_path):
    """``manage.py spectacular --validate --fail-on-warn``: every view's serializer is known."""
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))
    text = (tmp_path / "s.yaml").read_text()
    for path in (
        "/api/v1/sessions/",
        "/api/v1/cell-products/{id}/release/",
        "/api/v1/patients/{id}/",
    ):
        assert f"  {path}:" in text, path
    assert "ErrorSerializer" not in text or "Error:" in text
    assert "tokenAuth" in text


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Django's WSGI handler closes the database connection after each request; the test
    client stops that during tests (the test's transaction lives on it), and so must we."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_the_docs_page_serves_the_schema_of_every_endpoint(client, physician):
    from anagen.clinic.api.urls import router

    client.force_login(physician)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # The page's script is served apart (no inline script under the Content-Security-Policy).
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and b"/api/schema/" in script.content
    schema = client.get("/api/schema/?format=json").json()
    for prefix, _, _ in router.registry:
        assert any(p.startswith(f"/api/v1/{prefix}/") for p in schema["paths"]), prefix
    assert "Error" in schema["components"]["schemas"]
    release = schema["paths"]["/api/v1/cell-products/{id}/release/"]["post"]["responses"]
    assert {"200", "400", "401", "403", "404", "409", "422"} <= set(release)


def _checks(*names):
    return [c for c in CHECKS.get_all() if c.__name__ in names]


CONFORMANCE = _checks(
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)


def _load(raw: str):
    return schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", application, headers={"Authorization": f"Bearer {raw}"}
    )


def _run(schema, headers, check, mode=GenerationMode.POSITIVE):
    count = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def probe(case):
            check(case, case.call(headers=headers))

        probe()
        count += 1
    return count


@pytest.mark.slow(15)
@pytest.mark.django_db
def test_the_api_keeps_to_its_schema():
    world = build_world()
    raw = token_for(world["staff"][Role.PHYSICIAN])
    schema = _load(raw)
    headers = {"Authorization": f"Bearer {raw}"}

    def conforms(case, response):
        case.validate_response(response, checks=CONFORMANCE, headers=headers)

    assert len(CONFORMANCE) == 4
    operations = sum(
        method in ("get", "post", "patch", "put", "delete")
        for path, item in schema.raw_schema["paths"].items()
        if path.startswith("/api/v1/")
        for method in item
    )
    assert operations > 60
    assert _run(schema, headers, conforms) >= operations  # every operation of the schema
    statuses = {}

    def tally(case, response):
        statuses.setdefault(response.status_code, set()).add(f"{case.method} {case.path}")
        if case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE:
            conforms(case, response)
        else:
            case.validate_response(response, checks=CONFORMANCE[:1], headers=headers)

    _run(schema, headers, tally)
    # Requests outside the schema (wrong types, missing fields) are refused, never a 5xx.
    _run(schema, headers, tally, mode=GenerationMode.NEGATIVE)
    assert set(statuses) <= {200, 304, 400, 403, 404, 405, 409, 412, 415, 422, 428}, statuses
    assert 200 in statuses and 400 in statuses


@pytest.mark.django_db
def test_unauthenticated_and_wrong_role_calls_are_refused_as_documented(site):
    from tests.clinic.factories import UserFactory

    researcher = UserFactory.at(Role.RESEARCHER, site)
    raw = token_for(researcher)
    schema = _load(raw)

    def refused(expected):
        def check(case, response):
            registry = case.path.startswith(("/api/v1/registry/", "/api/v1/outcomes/"))
            if expected == 403 and registry:
                assert response.status_code != 403 or case.method != "GET"
                return
            assert response.status_code == expected, (case.method, case.path, response.text)
            case.validate_response(response, checks=CONFORMANCE)

        return check

    global MAX_EXAMPLES
    saved, MAX_EXAMPLES = MAX_EXAMPLES, 1
    try:
        _run(schema, {"Authorization": f"Bearer {raw}"}, refused(403))
        _run(schema, {"Authorization": ""}, refused(401))
    finally:
        MAX_EXAMPLES = saved


@pytest.mark.slow(30)
@pytest.mark.django_db
def test_stateful_create_then_read_keeps_to_the_schema():
    """Stateful schemathesis: the schema's links lead from each create (201) to reading the
    record created; sequences of calls follow them, every response as documented."""
    world = build_world()
    raw = token_for(world["staff"][Role.PHYSICIAN])
    schema = _load(raw)
    headers = {"Authorization": f"Bearer {raw}"}
    linked = [
        path
        for path, item in schema.raw_schema["paths"].items()
        if item.get("post", {}).get("responses", {}).get("201", {}).get("links")
    ]
    assert "/api/v1/patients/" in linked and "/api/v1/appointments/" in linked

    class Stateful(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CONFORMANCE, headers=headers)

    Stateful.run(
        settings=settings(
            max_examples=MAX_EXAMPLES * 3,
            stateful_step_count=4,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
