"""System checks: a clinic that cannot sign should say so at start-up, not at the first release."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register


@register()
def signature_keys_check(app_configs, **kwargs):
    keys = getattr(settings, "ANAGEN_SIGNATURE_KEYS", {}) or {}
    key_id = getattr(settings, "ANAGEN_SIGNATURE_KEY_ID", "")
    errors = []
    if key_id not in keys:
        errors.append(
            Error(
                f"ANAGEN_SIGNATURE_KEY_ID {key_id!r} is not a key of ANAGEN_SIGNATURE_KEYS.",
                hint="See docs/security.md, 'Keys'.",
                id="anagen.E001",
            )
        )
    if "" in keys or any(not secret for secret in keys.values()):
        errors.append(
            Error(
                "ANAGEN_SIGNATURE_KEYS has an empty key id or secret "
                "(an empty id means a legacy, unkeyed signature).",
                id="anagen.E002",
            )
        )
    return errors
