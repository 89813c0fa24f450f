"""The FHIR R5 endpoints (``/fhir/``): read, search, ``Patient/{id}/$everything``, metadata.

Plain DRF views: authentication is the project's DRF authentication classes (the session, and
the API's per-user tokens: ``Authorization: Bearer ank_…``, the token carrying every permission a
FHIR read answers with), access is ``policy`` (``FhirAccess`` asks ``Perm.FHIR_READ``; ``resources`` asks each source's
permission) and site scoping is the selectors'. Every answer, errors included, is FHIR JSON
(an OperationOutcome for errors). No patient detail is logged.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from anagen.clinic.accounts.policy import Perm, allows, fhir_token_missing, refusal_logged
from anagen.clinic.api.base import unstorable
from anagen.clinic.api.models import ApiToken

from . import bundles, resources

CONTENT_TYPE = "application/fhir+json; charset=utf-8"


def fhir_response(resource: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(resource, ensure_ascii=False), status=status, content_type=CONTENT_TYPE
    )


def outcome(status: int, code: str, text: str) -> HttpResponse:
    severity = "error" if status < 500 else "fatal"
    return fhir_response(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code, "diagnostics": text}],
        },
        status,
    )


class TokenTooNarrow(exceptions.PermissionDenied):
    pass


class FhirAccess(BasePermission):
    """Signed in, and the role reads FHIR (``Perm.FHIR_READ``); through an API token, only a
    token carrying what a FHIR read answers with (``policy.fhir_token_missing``)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if allows(request.user, Perm.FHIR_READ):
            if isinstance(request.auth, ApiToken):
                missing = fhir_token_missing(request.user, request.auth.scopes)
                if missing:
                    refusal_logged(request.user, "fhir token scope")
                    raise TokenTooNarrow(
                        "This token does not carry the permissions a FHIR read answers with: "
                        + ", ".join(missing)
                        + "."
                    )
            return True
        if request.user and request.user.is_authenticated:
            refusal_logged(request.user, "fhir")
        return False


class FhirNegotiation(BaseContentNegotiation):
    """Every answer is FHIR JSON, whatever the client's Accept header asks
    (``application/fhir+json``, ``application/json``, ``*/*``): DRF's renderers are not used."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: Any, format_suffix: Any = None) -> Any:
        return (renderers[0], renderers[0].media_type)


class FhirView(APIView):
    permission_classes = [FhirAccess]
    content_negotiation_class = FhirNegotiation
    schema = None  # FHIR has its own CapabilityStatement; not part of the REST API's schema

    def handle_exception(self, exc: Exception) -> HttpResponse:
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            response = outcome(401, "login", "Sign in to read the clinic's records.")
            response["WWW-Authenticate"] = 'Session realm="anagen"'
            return response
        if isinstance(exc, TokenTooNarrow):
            return outcome(403, "forbidden", str(exc.detail))
        if isinstance(exc, exceptions.PermissionDenied):
            return outcome(403, "forbidden", "Your role does not give access to these records.")
        if isinstance(exc, resources.SearchError):
            return outcome(400, "not-supported", str(exc))
        if isinstance(exc, exceptions.MethodNotAllowed):
            return outcome(
                405, "not-supported", "This server only reads (GET; POST for [type]/_search)."
            )
        if isinstance(exc, exceptions.UnsupportedMediaType):
            return outcome(415, "not-supported", str(exc.detail))
        return super().handle_exception(exc)

    def base_url(self, request: HttpRequest) -> str:
        return request.build_absolute_uri(reverse("fhir:metadata")).removesuffix("metadata")

    def require_type(self, request: Request, kind: str) -> None:
        if kind not in resources.TYPES:
            raise _NotFound(f"This server has no resource type {kind}.")
        if not resources.may_read_type(request.user, kind):
            refusal_logged(request.user, f"fhir:{kind}")
            raise exceptions.PermissionDenied()


class _NotFound(Exception):
    pass


class _Handled(FhirView):
    def handle_exception(self, exc: Exception) -> HttpResponse:
        if isinstance(exc, _NotFound):
            return outcome(404, "not-found", str(exc))
        return super().handle_exception(exc)


class Metadata(_Handled):
    """The CapabilityStatement, open to anyone (as FHIR clients expect, to discover the server
    before signing in): it describes the server and holds nothing about patients or staff."""

    permission_classes = [AllowAny]

    def get(self, request: Request) -> HttpResponse:
        return fhir_response(bundles.capability_statement(self.base_url(request)))


class _Searching(_Handled):
    def answer(self, request: Request, kind: str, given: Any, *, linkable: bool) -> HttpResponse:
        self.require_type(request, kind)
        params = {key: given.get(key, "") for key in given}
        if unstorable(params):
            # a database refuses these characters (PostgreSQL with an error): a 400, not a 500
            raise resources.SearchError("Search values may not contain NUL characters.")
        result = resources.search(user=request.user, kind=kind, params=params)
        return fhir_response(
            bundles.searchset(
                self.base_url(request),
                kind,
                params,
                result,
                request.build_absolute_uri(),
                linkable=linkable,
            )
        )


class Search(_Searching):
    def get(self, request: Request, kind: str) -> HttpResponse:
        return self.answer(request, kind, request.query_params, linkable=True)


class SearchByPost(_Searching):
    """``POST [type]/_search`` (form-encoded): FHIR's search with the terms in the body, so that
    a name or a date of birth never reaches a URL, an access log or a proxy. The terms may not
    come in the query string as well, and the Bundle has no ``next`` link (a link would carry
    them): the client posts again with ``_offset``."""

    parser_classes = [FormParser]
    http_method_names = ["post", "options"]

    def post(self, request: Request, kind: str) -> HttpResponse:
        self.require_type(request, kind)
        if request.content_type.split(";")[0].strip().lower() != FormParser.media_type:
            raise exceptions.UnsupportedMediaType(
                request.content_type,
                detail="A FHIR search by POST is form-encoded (application/x-www-form-urlencoded).",
            )
        if request.query_params:
            raise resources.SearchError(
                "A search by POST takes its parameters in the body only, not in the URL."
            )
        return self.answer(request, kind, request.data, linkable=False)


#: A FHIR id (R5 ``id`` datatype).
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


class Read(_Handled):
    def get(self, request: Request, kind: str, ident: str) -> HttpResponse:
        self.require_type(request, kind)
        if not _FHIR_ID.fullmatch(ident):
            raise _NotFound(f"{kind}/{ident[:64]} is not a FHIR id.")
        found = resources.read(user=request.user, kind=kind, ident=ident)
        if found is None:
            raise _NotFound(f"{kind}/{ident} is not known here.")
        return fhir_response(found)


class Everything(_Handled):
    def get(self, request: Request, ident: str) -> HttpResponse:
        self.require_type(request, "Patient")
        patient = None
        if ident.isdecimal() and len(ident) <= 12:
            patient = resources.selectors.patients(
                user=request.user,
                patient_ids=[int(ident)],
            ).first()
        if patient is None:
            raise _NotFound(f"Patient/{ident} is not known here.")
        found = resources.everything(user=request.user, patient=patient)
        return fhir_response(bundles.everything_bundle(self.base_url(request), found))
