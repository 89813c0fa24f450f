"""Production: everything from the environment, nothing defaulted that could be unsafe."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import signature_keys

DEBUG = False
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
# E-signature keys are required and separate from SECRET_KEY (docs/security.md).
ANAGEN_SIGNATURE_KEYS = signature_keys(os.environ["ANAGEN_SIGNATURE_KEYS"])
ANAGEN_SIGNATURE_KEY_ID = os.environ.get("ANAGEN_SIGNATURE_KEY_ID") or next(
    iter(ANAGEN_SIGNATURE_KEYS), ""
)
if ANAGEN_SIGNATURE_KEY_ID not in ANAGEN_SIGNATURE_KEYS:
    raise ImproperlyConfigured("ANAGEN_SIGNATURE_KEY_ID must name a key of ANAGEN_SIGNATURE_KEYS")
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
