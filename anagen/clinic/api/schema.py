"""The OpenAPI schema: every operation documents its structured errors (``ErrorSerializer``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi

from .errors import ErrorSerializer

_ALWAYS = {
    "400": "Invalid input or a refusal by the service (its code)",
    "401": "Not signed in",
    "403": "Not allowed (role, token scope, site)",
}
_DETAIL = {"404": "No such record at your sites"}
_UPDATE = {
    "412": "The record changed since it was read (stale If-Match)",
    "428": "If-Match is required",
}
_ACTION = {
    "409": "The first request with this Idempotency-Key is still running",
    "422": "This Idempotency-Key was used for another request",
    "428": "Idempotency-Key is required (administering)",
}


class AutoSchema(openapi.AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if not self.path.startswith("/api/v1/"):
            return responses
        extra = dict(_ALWAYS)
        if "{" in self.path:
            extra.update(_DETAIL)
        if self.method in ("PATCH", "PUT"):
            extra.update(_UPDATE)
        if self.method == "POST":
            extra.update(_ACTION)
        for code, text in extra.items():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code)
                response["description"] = text
                responses[code] = response
        return responses


def add_links(result: dict[str, Any], **_: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: an OpenAPI link from each ``POST /x/`` that
    creates a record (201) to ``GET /x/{id}/`` of that record, so that clients and
    schemathesis' stateful tests can follow what was created."""
    paths = result.get("paths", {})
    for path, item in paths.items():
        created = item.get("post", {}).get("responses", {}).get("201")
        detail = paths.get(f"{path}{{id}}/", {}).get("get")
        if "{" in path or created is None or detail is None:
            continue
        created.setdefault("links", {})["ReadCreated"] = {
            "operationId": detail["operationId"],
            "parameters": {"id": "$response.body#/id"},
            "description": "The record just created.",
        }
    return result
