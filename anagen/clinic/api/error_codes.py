"""Why the API itself refused (the services' own refusals keep their apps' codes)."""

from __future__ import annotations

from enum import StrEnum


class ApiErrorCode(StrEnum):
    # --- authentication and access ------------------------------------------------------------
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    FORBIDDEN = "forbidden"
    OUT_OF_SCOPE = "out_of_scope"  # the token does not carry the permission
    MFA_REQUIRED = "mfa_required"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    THROTTLED = "throttled"
    # --- input --------------------------------------------------------------------------------
    MALFORMED = "malformed"  # the body is not JSON (or not a JSON object)
    TOO_LARGE = "too_large"  # the body is larger than the API reads
    INVALID = "invalid"  # a field's value is not acceptable
    REQUIRED = "required"
    UNKNOWN_FIELD = "unknown_field"
    # --- concurrency and retries ----------------------------------------------------------------
    PRECONDITION_REQUIRED = "precondition_required"  # an update without If-Match
    PRECONDITION_FAILED = "precondition_failed"  # If-Match no longer matches (stale)
    IDEMPOTENCY_KEY_REQUIRED = "idempotency_key_required"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"  # same key, different request
    IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress"  # same key, first still running
    # --- tokens ---------------------------------------------------------------------------------
    TOKEN_NEEDS_MFA = "token_needs_mfa"  # noqa: S105 (a code, not a token)
    TOKEN_SCOPE = "token_scope"  # noqa: S105
    TOKEN_EXPIRY = "token_expiry"  # noqa: S105
    TOKEN_NAME = "token_name"  # noqa: S105
