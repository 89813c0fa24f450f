"""What every API view shares: policy permission, site-scoped querysets, ETag / If-Match,
``Idempotency-Key`` on actions and strict input (unknown fields refused)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response

from anagen.clinic.accounts.access import sites_for

from . import idempotency
from .error_codes import ApiErrorCode
from .errors import ApiError
from .models import IdempotentResponse
from .permissions import PolicyPermission

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="A unique key per intended action (e.g. a UUID). A retry with the same key and "
    "body returns the first response without acting again; the same key with another body is "
    "refused (422).",
)
IF_MATCH_HEADER = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The ETag from the last GET of the record; a stale one is refused (412).",
)


class StrictMixin:
    """Input that names a field the endpoint does not know is refused, never ignored."""

    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["Send a JSON object."]}, code=ApiErrorCode.MALFORMED
            )
        if unstorable(data):
            raise serializers.ValidationError(
                {
                    "non_field_errors": [
                        serializers.ErrorDetail(
                            "Text may not contain NUL or unpaired surrogate characters.",
                            code=ApiErrorCode.INVALID,
                        )
                    ]
                }
            )
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {
                    name: [serializers.ErrorDetail("Unknown field.", code="unknown_field")]
                    for name in unknown
                }
            )
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictSerializer(StrictMixin, serializers.Serializer):
    """A strict plain serializer (the actions' input)."""


def unstorable(value: Any) -> bool:
    """Whether any text in ``value`` (keys included) holds a character no database column
    takes: NUL, or half of a UTF-16 surrogate pair."""
    if isinstance(value, str):
        return "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return any(unstorable(k) or unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(unstorable(v) for v in value)
    return False


def etag_of(data: Any) -> str:
    digest = hashlib.sha256(
        json.dumps(data, sort_keys=True, cls=DjangoJSONEncoder).encode()
    ).hexdigest()
    return f'"{digest[:32]}"'


def _request_hash(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, cls=DjangoJSONEncoder, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


class _Undone(Exception):
    """Leave the action's transaction without committing it (``response`` is what to answer)."""

    def __init__(self, response: Response, *, lost: bool = False):
        self.response = response
        self.lost = lost


def idempotent(required: bool = False) -> Callable[..., Any]:
    """Run an action once per ``Idempotency-Key`` (per user): a retry gets the first response.

    The key is claimed in its own committed row before the action runs, so a second request
    arriving while the first still runs finds it (409) instead of acting too. The action and the
    recording of its response commit together: a request that ends in a server error releases
    the key, and one killed mid-way leaves a claim that a retry takes over once it is older than
    ``ANAGEN_IDEMPOTENCY_STALE_SECONDS`` (``idempotency.py``).
    """

    def wrap(func: Callable[..., Response]) -> Callable[..., Response]:
        @wraps(func)
        def run(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            key = request.headers.get("Idempotency-Key", "").strip()
            if not key:
                if required:
                    raise ApiError(
                        428,
                        "Send an Idempotency-Key header with this action.",
                        ApiErrorCode.IDEMPOTENCY_KEY_REQUIRED,
                    )
                return func(self, request, *args, **kwargs)
            if len(key) > 200:
                raise ApiError(400, "The Idempotency-Key is too long.", ApiErrorCode.INVALID)
            digest = _request_hash(request)
            claimed = idempotency.claim(user=request.user, key=key, request_hash=digest)
            record = claimed.record
            if record is None:
                assert claimed.first is not None
                return _answer_from(claimed.first, digest)
            request.idempotency_key = key
            try:
                with transaction.atomic():
                    try:
                        response = func(self, request, *args, **kwargs)
                    except Exception as exc:  # a refusal becomes the response to keep
                        response = self.handle_exception(exc)
                    if response.status_code >= 500:
                        raise _Undone(response)
                    body = json.dumps(response.data, cls=DjangoJSONEncoder)
                    if not idempotency.record_response(
                        record, status_code=response.status_code, body=body
                    ):
                        raise _Undone(response, lost=True)
            except _Undone as undone:
                if undone.lost:  # a retry took the key over: its action stands, ours is undone
                    raise ApiError(
                        409,
                        "This request outlived its Idempotency-Key; a retry has taken it over.",
                        ApiErrorCode.IDEMPOTENCY_IN_PROGRESS,
                    ) from None
                idempotency.release(record)
                return undone.response
            except BaseException:  # a server error: release the key, so a retry can act
                idempotency.release(record)
                raise
            return response

        return run

    return wrap


def _answer_from(first: IdempotentResponse, digest: str) -> Response:
    """The answer to a request whose key another request holds or held."""
    if first.request_hash != digest:
        raise ApiError(
            422,
            "This Idempotency-Key was used for another request.",
            ApiErrorCode.IDEMPOTENCY_KEY_REUSED,
        )
    if first.status_code is None:
        raise ApiError(
            409,
            "The first request with this Idempotency-Key is still running.",
            ApiErrorCode.IDEMPOTENCY_IN_PROGRESS,
        )
    replay = Response(json.loads(first.body), status=first.status_code)
    replay["Idempotent-Replayed"] = "true"
    return replay


class Pagination(LimitOffsetPagination):
    """``?limit=&offset=`` pages of at most 500 records; an offset beyond any table is refused
    (a database refuses integers that large)."""

    default_limit = 50
    max_limit = 500
    max_offset = 2**31 - 1

    def get_offset(self, request: Request) -> int:
        raw = request.query_params.get(self.offset_query_param)
        if raw is not None and raw.strip().lstrip("+").isdigit() and int(raw) > self.max_offset:
            raise serializers.ValidationError(
                {"offset": [serializers.ErrorDetail("The offset is too large.", code="max_value")]}
            )
        return super().get_offset(request)


class ApiViewSet(viewsets.GenericViewSet):
    """Site-scoped, policy-guarded reads; subclasses add actions calling one service each.

    ``site_field`` is the lookup from the model to its site (``patient__site``); the queryset
    holds only the records of the caller's sites (another site's record is a 404).
    """

    permission_classes = [PolicyPermission]
    pagination_class = Pagination
    perms: dict[str, Any] = {}
    site_field = "patient__site"

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        for name, values in request.query_params.lists():
            if unstorable(name) or unstorable(values):
                raise serializers.ValidationError(
                    {
                        name: [
                            serializers.ErrorDetail(
                                "Text may not contain NUL or unpaired surrogate characters.",
                                code=ApiErrorCode.INVALID,
                            )
                        ]
                    }
                )

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any):
        # Patients' records: kept by no shared cache; a client revalidates with its ETag.
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "private, no-cache"
        return response

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset.filter(**{f"{self.site_field}__in": sites_for(user=self.request.user)})

    def require_fresh(self, request: Request, instance: Any) -> None:
        """412 unless ``If-Match`` carries the record's current ETag (428 without one)."""
        given = request.headers.get("If-Match", "")
        if not given:
            raise ApiError(
                428,
                "Send If-Match with the ETag of the record you are changing.",
                ApiErrorCode.PRECONDITION_REQUIRED,
            )
        current = etag_of(self.get_serializer(instance).data)
        tags = _tags(given)
        if "*" not in tags and current not in tags:
            raise ApiError(
                412,
                "The record changed since you read it; read it again.",
                ApiErrorCode.PRECONDITION_FAILED,
            )

    def respond(
        self, instance: Any, status_code: int = 200, serializer_class: Any = None
    ) -> Response:
        cls = serializer_class or self.get_serializer_class()
        data = cls(instance, context=self.get_serializer_context()).data
        headers = {"ETag": etag_of(data)} if cls is self.get_serializer_class() else {}
        return Response(data, status=status_code, headers=headers)

    def validated(self, serializer_class: Any, request: Request) -> dict[str, Any]:
        serializer = serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


def _tags(header: str) -> set[str]:
    return {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}


class ReadViewSet(ApiViewSet, mixins.ListModelMixin):
    """List (paged, filtered, ordered) and retrieve (with an ETag)."""

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(self.get_object()).data
        tag = etag_of(data)
        if tag in _tags(request.headers.get("If-None-Match", "")):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": tag})
        return Response(data, headers={"ETag": tag})
