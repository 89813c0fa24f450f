"""One exception handler: every refusal is ``{"code", "message", "field", "errors"}``.

``code`` is the service's own error code (``TreatmentErrorCode``, ``IntakeErrorCode``, …) when
a service refused, else one of ``ApiErrorCode``; ``field`` names the input at fault (dotted for
nested input, ``zones.0.points``) or is null; ``errors`` lists every problem found, the first of
which is repeated at the top.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings

from .error_codes import ApiErrorCode


class ApiError(exceptions.APIException):
    """A refusal by the API layer itself with its own status (412, 428, 409, 422)."""

    def __init__(self, status_code: int, message: str, code: ApiErrorCode):
        self.status_code = status_code
        super().__init__(message, code=code)


class ErrorItemSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable reason, e.g. 'four_eyes'.")
    message = serializers.CharField(help_text="The clinic's words for it.")
    field = serializers.CharField(allow_null=True, help_text="Input at fault (dotted), or null.")


class ErrorSerializer(ErrorItemSerializer):
    errors = ErrorItemSerializer(many=True)


_DRF_CODES = {
    "parse_error": ApiErrorCode.MALFORMED,
    "not_authenticated": ApiErrorCode.NOT_AUTHENTICATED,
    "authentication_failed": ApiErrorCode.AUTHENTICATION_FAILED,
    "permission_denied": ApiErrorCode.FORBIDDEN,
    "not_found": ApiErrorCode.NOT_FOUND,
    "method_not_allowed": ApiErrorCode.METHOD_NOT_ALLOWED,
    "not_acceptable": ApiErrorCode.NOT_ACCEPTABLE,
    "unsupported_media_type": ApiErrorCode.UNSUPPORTED_MEDIA_TYPE,
    "throttled": ApiErrorCode.THROTTLED,
}


def _item(code: Any, message: Any, field: str | None) -> dict[str, Any]:
    code = str(code or ApiErrorCode.INVALID)
    return {"code": str(_DRF_CODES.get(code, code)), "message": str(message), "field": field}


def _flatten_drf(detail: Any, field: str | None = None) -> list[dict[str, Any]]:
    if isinstance(detail, dict):
        items = []
        for key, value in detail.items():
            name = None if key in (api_settings.NON_FIELD_ERRORS_KEY, NON_FIELD_ERRORS) else key
            path = field if name is None else (f"{field}.{name}" if field else str(name))
            items += _flatten_drf(value, path)
        return items
    if isinstance(detail, list):
        items = []
        for index, value in enumerate(detail):
            nested = isinstance(value, dict | list)
            items += _flatten_drf(value, f"{field}.{index}" if nested and field else field)
        return items
    return [_item(getattr(detail, "code", None), detail, field)]


def _flatten_django(error: DjangoValidationError) -> list[dict[str, Any]]:
    items = []
    if hasattr(error, "error_dict"):
        for key, errors in error.error_dict.items():
            for one in errors:
                message = one.message % one.params if one.params else one.message
                items.append(_item(one.code, message, None if key == NON_FIELD_ERRORS else key))
    else:
        for one in error.error_list:
            message = one.message % one.params if one.params else one.message
            items.append(_item(one.code, message, None))
    return items


def _body(items: list[dict[str, Any]]) -> dict[str, Any]:
    first = items[0] if items else _item(ApiErrorCode.INVALID, "Invalid request.", None)
    return {**first, "errors": items or [first]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    headers: dict[str, str] = {}
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024) or 1
        item = _item(ApiErrorCode.TOO_LARGE, f"The body is larger than {limit} MB.", None)
        return Response(_body([item]), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, DjangoValidationError):
        return Response(_body(_flatten_django(exc)), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoPermissionDenied):
        item = _item(ApiErrorCode.FORBIDDEN, exc.args[0] if exc.args else "Refused.", None)
        return Response(_body([item]), status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        item = _item(ApiErrorCode.NOT_FOUND, "Not found.", None)
        return Response(_body([item]), status=status.HTTP_404_NOT_FOUND)
    if not isinstance(exc, exceptions.APIException):
        return None
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        request = context.get("request")
        view = context.get("view")
        if request is not None and view is not None:
            authenticators = request.authenticators
            if authenticators:
                header = authenticators[0].authenticate_header(request)
                if header:
                    headers["WWW-Authenticate"] = header
            status_code = status.HTTP_401_UNAUTHORIZED
            exc.status_code = status_code
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, exceptions.ValidationError):
        items = _flatten_drf(exc.detail)
    else:
        items = [
            _item(exc.get_codes() if isinstance(exc.get_codes(), str) else None, exc.detail, None)
        ]
    return Response(_body(items), status=exc.status_code, headers=headers)
