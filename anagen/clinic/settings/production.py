"""Production: everything from the environment, nothing defaulted that could be unsafe."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_bool, signature_keys

# TOTP for the roles in ANAGEN_MFA_ROLES and for admin users: on unless explicitly turned off.
ANAGEN_REQUIRE_MFA = env_bool("ANAGEN_REQUIRE_MFA", True)

DEBUG = False
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
# E-signature keys are required and separate from SECRET_KEY (docs/security.md).
ANAGEN_SIGNATURE_KEYS = signature_keys(os.environ["ANAGEN_SIGNATURE_KEYS"])
ANAGEN_SIGNATURE_KEY_ID = os.environ.get("ANAGEN_SIGNATURE_KEY_ID") or next(
    iter(ANAGEN_SIGNATURE_KEYS), ""
)
if ANAGEN_SIGNATURE_KEY_ID not in ANAGEN_SIGNATURE_KEYS:
    raise ImproperlyConfigured("ANAGEN_SIGNATURE_KEY_ID must name a key of ANAGEN_SIGNATURE_KEYS")
# The de-identified export's key: required, separate from SECRET_KEY and the signature keys.
ANAGEN_EXPORT_KEY = os.environ.get("ANAGEN_EXPORT_KEY", "")
if len(ANAGEN_EXPORT_KEY) < 32:
    raise ImproperlyConfigured(
        "Set ANAGEN_EXPORT_KEY (at least 32 characters, e.g. `openssl rand -hex 32`): it keys "
        "the hashed ids and date shifts of the de-identified registry export."
    )
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 31536000
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1"),
    }
}

# Jobs (trichoscopy analysis: seconds of CPU and hundreds of MB per image) never run inside a
# web request here: without a real broker the site refuses to start instead of going eager.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
if not CELERY_BROKER_URL or CELERY_BROKER_URL.startswith("memory://"):
    raise ImproperlyConfigured(
        "Set CELERY_BROKER_URL to the Redis broker (e.g. redis://host:6379/0): production runs "
        "analysis and reminders on Celery workers, never inside web requests."
    )
CELERY_TASK_ALWAYS_EAGER = False
