"""API tokens (hashed at rest) and the stored responses of idempotent actions."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from anagen.clinic.common import clock
from anagen.clinic.common.clock import ClockDateTimeField


class ApiToken(models.Model):
    """A member of staff's key for machines: only its SHA-256 is kept; the key is shown once.

    It carries a subset of the holder's role permissions (``scopes``); what the role no longer
    allows is refused whatever the token says. It expires, and can be revoked at once.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=80, help_text="What the token is for, e.g. 'EHR bridge'.")
    prefix = models.CharField(max_length=12, help_text="The key's first characters, to tell it.")
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list, help_text="Permissions (policy.Perm values).")
    created_at = ClockDateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.expires_at > clock.now()


class IdempotentResponse(models.Model):
    """The first response to an action sent with an ``Idempotency-Key`` (per user and key).

    A retry with the same key and the same request gets this response back, and the action is
    not run again; the same key with another request is refused.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)  # None: still running
    # JSON text, not a JSON column: PostgreSQL's jsonb cannot hold a \u0000, and a refusal
    # may quote the (unknown) field name a client sent.
    body = models.TextField(blank=True)
    created_at = ClockDateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="api_idempotency_user_key")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
