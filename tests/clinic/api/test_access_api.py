"""Every API endpoint × every role: allowed calls answer, the others are refused (403), and
nobody unauthenticated gets anything (401).

The API is not a page namespace: ``RoleAccessMiddleware`` governs the pages through
``policy.PAGES``; every API view is governed by ``api.permissions.PolicyPermission``, which asks
the same policy for the permission each action declares. The endpoint list is read from the
router, so a new endpoint fails here until ``EXPECTED`` (written by hand from the clinic's job
descriptions, like ``accounts/test_access.py``) says who may use it.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from anagen.clinic.accounts.policy import GUARDED_NAMESPACES, Perm
from anagen.clinic.accounts.roles import Role
from anagen.clinic.api.permissions import PolicyPermission
from anagen.clinic.api.urls import router
from tests.clinic.accounts.test_access import ROLE_CODES
from tests.clinic.world import build_world

from .conftest import client_for

#: "prefix:action" → roles that may (P N L C A D R B as in accounts/test_access.py).
EXPECTED = {
    "patients:list": "PNLCAD",
    "patients:retrieve": "PNLCAD",
    "patients:create": "PNCD",
    "patients:partial_update": "PNCD",
    "patients:search": "PNLCAD",
    "inquiries:list": "CAD",
    "inquiries:retrieve": "CAD",
    "inquiries:status": "CD",
    "inquiries:convert": "CD",
    "appointments:list": "PNLCAD",
    "appointments:retrieve": "PNLCAD",
    "appointments:create": "PNCD",
    "appointments:status": "PNCD",
    "clinicians:list": "PNLCAD",
    "clinicians:retrieve": "PNLCAD",
    "assessments:list": "PNCA",
    "assessments:retrieve": "PNCA",
    "assessments:create": "P",
    "assessments:override": "P",
    "protocols:list": "PNLCA",
    "protocols:retrieve": "PNLCA",
    "consent-texts:list": "PNLCA",
    "consent-texts:retrieve": "PNLCA",
    "plans:list": "PNLCA",
    "plans:retrieve": "PNLCA",
    "plans:create": "P",
    "consents:list": "PNLCA",
    "consents:retrieve": "PNLCA",
    "consents:create": "PN",
    "consents:withdraw": "PN",
    "harvests:list": "PNLCA",
    "harvests:retrieve": "PNLCA",
    "harvests:create": "P",
    "cell-products:list": "PNLA",
    "cell-products:retrieve": "PNLA",
    "cell-products:results": "L",
    "cell-products:release": "L",
    "cell-products:store": "L",
    "cell-products:thaw": "L",
    "cell-products:discard": "PL",
    "custody-events:list": "PNLA",
    "custody-events:retrieve": "PNLA",
    "sessions:list": "PNLA",
    "sessions:retrieve": "PNLA",
    "sessions:create": "P",
    "adverse-events:list": "PNLA",
    "adverse-events:retrieve": "PNLA",
    "adverse-events:create": "PN",
    "follow-ups:list": "PNCD",
    "follow-ups:retrieve": "PNCD",
    "follow-ups:book": "PNCD",
    "target-sites:list": "PNA",
    "target-sites:retrieve": "PNA",
    "imaging-visits:list": "PNA",
    "imaging-visits:retrieve": "PNA",
    "imaging-visits:create": "PN",
    "images:list": "PNA",
    "images:retrieve": "PNA",
    "images:correct": "PN",
    "outcomes:list": "PAR",
    "outcomes:retrieve": "PAR",
    "registry:statistics": "PAR",
}
READS = {"list", "retrieve", "statistics"}


def endpoints():
    """(key, method, url template) for every routed action: ``{id}`` stands for a record."""
    found = []
    for prefix, viewset, _ in router.registry:
        for action in viewset.perms:
            detail = action in ("retrieve", "partial_update") or (
                action not in ("list", "create") and getattr(viewset, action).detail
            )
            url = f"/api/v1/{prefix}/" + ("{id}/" if detail else "")
            if action not in ("list", "retrieve", "create", "partial_update"):
                url += f"{action}/"
            method = {"list": "get", "retrieve": "get", "statistics": "get"}.get(action, "post")
            method = "patch" if action == "partial_update" else method
            found.append((f"{prefix}:{action}", method, url))
    return found


def test_every_endpoint_is_in_the_table_and_guarded_by_policy():
    keys = {key for key, _, _ in endpoints()}
    assert keys == set(EXPECTED), (sorted(keys - set(EXPECTED)), sorted(set(EXPECTED) - keys))
    for _, viewset, _ in router.registry:
        assert viewset.permission_classes == [PolicyPermission], viewset
        assert all(isinstance(perm, Perm) for perm in viewset.perms.values()), viewset
    # The API is no page namespace: the page middleware leaves it to PolicyPermission.
    assert "api" not in GUARDED_NAMESPACES


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        built = build_world()
        built["clients"] = {role: client_for(user) for role, user in built["staff"].items()}
        yield built
        transaction.set_rollback(True)


def _url(template: str) -> str:
    from django.urls import resolve

    if "{id}" not in template:
        return template
    prefix = template.split("/")[3]
    viewset = next(v for p, v, _ in router.registry if p == prefix)
    model = viewset.queryset.model
    record = model.objects.order_by("pk").first()
    url = template.replace("{id}", str(record.pk if record else 999999))
    resolve(url)
    return url


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(Role.values))
def test_role_matrix(world, role):
    client = world["clients"][role]
    for key, method, template in endpoints():
        url = _url(template)
        body = {} if method != "get" else None
        kwargs = {"format": "json"} if body is not None else {}
        headers = {"HTTP_IDEMPOTENCY_KEY": f"{role}-{key}", "HTTP_IF_MATCH": '"x"'}
        response = getattr(client, method)(url, body, **kwargs, **headers)
        allowed = ROLE_CODES[role] in EXPECTED[key]
        if not allowed:
            assert response.status_code == 403, (key, role, response.status_code)
            assert response.json()["code"] in ("forbidden", "out_of_scope"), (key, role)
        elif key.split(":")[1] in READS:
            assert response.status_code in (200, 404), (key, role, response.status_code)
        else:  # allowed to try: refused for the empty body or the stale tag, never by role
            assert response.status_code in (400, 412), (key, role, response.status_code)


@pytest.mark.django_db
def test_unauthenticated_calls_are_refused(world):
    client = APIClient()
    for key, method, template in endpoints():
        url = _url(template)
        response = getattr(client, method)(url, {}, format="json")
        assert response.status_code == 401, (key, response.status_code)
        assert response.json()["code"] == "not_authenticated"
        assert response["WWW-Authenticate"] == "Bearer"
    # A session of somebody signed out, or a made-up token, is no better.
    client.credentials(HTTP_AUTHORIZATION="Bearer ank_forged")
    assert client.get("/api/v1/patients/").status_code == 401
    assert APIClient().get("/api/schema/").status_code in (401, 403)
