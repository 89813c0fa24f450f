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
# HTTPS everywhere. ANAGEN_HTTPS=false only for `make prod` on loopback (plain HTTP to
# 127.0.0.1, no proxy): it turns off the secure-cookie flags and the redirect, nothing else.
_HTTPS = env_bool("ANAGEN_HTTPS", True)
SESSION_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_SECURE = _HTTPS
SECURE_SSL_REDIRECT = _HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("ANAGEN_HSTS_SECONDS", "31536000")) if _HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("ANAGEN_HSTS_PRELOAD", True)
# TLS ends at the reverse proxy, which says so in X-Forwarded-Proto. The proxy must set (not
# pass through) this header; the client's address comes from ANAGEN_TRUSTED_PROXIES (base.py).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# DJANGO_ALLOWED_HOSTS (base.py) must name the clinic's hosts: `check --deploy` says so.

# Static files from the application server itself (WhiteNoise): compressed, with hashed names
# and far-future caching; `manage.py collectstatic` fills STATIC_ROOT at deploy time.
MIDDLEWARE = list(MIDDLEWARE)  # noqa: F405
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "whitenoise.middleware.WhiteNoiseMiddleware",
)
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Mail: a real backend (SMTP by default). The console, file and in-memory backends would write
# patients' names and e-mail addresses to stdout, disk or memory: refused.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
_UNSAFE_MAIL = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
}
if EMAIL_BACKEND in _UNSAFE_MAIL:
    raise ImproperlyConfigured(
        f"EMAIL_BACKEND={EMAIL_BACKEND} would print or keep patients' e-mails: use SMTP "
        "(EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS) or "
        "django.core.mail.backends.dummy.EmailBackend to send none."
    )
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 20
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
