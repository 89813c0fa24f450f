"""Settings shared by every environment. Environment-specific modules import * from here."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE

BASE_DIR = Path(__file__).resolve().parents[3]
VAR_DIR = Path(os.environ.get("ANAGEN_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")


def signature_keys(value: str) -> dict[str, str]:
    """Parse ``"k2026:secret,k2025:oldsecret"`` into ``{"k2026": "secret", ...}``."""
    keys: dict[str, str] = {}
    for item in value.split(","):
        key_id, sep, secret = item.strip().partition(":")
        if not item.strip():
            continue
        if not sep or not key_id.strip() or not secret.strip():
            raise ValueError("ANAGEN_SIGNATURE_KEYS: each entry is key-id:secret")
        keys[key_id.strip()] = secret.strip()
    return keys


def derived_signature_key(secret_key: str) -> str:
    # Local and test only: a signature key of its own, derived from SECRET_KEY.
    import hashlib

    return hashlib.sha256(f"anagen-signature-key:{secret_key}".encode()).hexdigest()


#: E-signature HMAC keys (key id → secret) and the id used for new signatures. Keep retired keys
#: in the dict: a signature verifies with the key it was made with (docs/security.md, rotation).
ANAGEN_SIGNATURE_KEYS = signature_keys(os.environ.get("ANAGEN_SIGNATURE_KEYS", ""))
ANAGEN_SIGNATURE_KEY_ID = os.environ.get("ANAGEN_SIGNATURE_KEY_ID") or next(
    iter(ANAGEN_SIGNATURE_KEYS), ""
)
#: Key of the de-identified registry export (HMAC-SHA256 of record ids and the per-patient date
#: shift, docs/security.md). Production requires it from the environment; local and test derive
#: one from SECRET_KEY. Changing it changes every hash and date shift of later exports.
ANAGEN_EXPORT_KEY = os.environ.get("ANAGEN_EXPORT_KEY", "")
#: The "what to expect" sheet shows numbers only with at least this many similar patients.
ANAGEN_EXPECT_MIN_PATIENTS = int(os.environ.get("ANAGEN_EXPECT_MIN_PATIENTS", "10"))


def derived_export_key(secret_key: str) -> str:
    # Local and test only: an export key of its own, derived from SECRET_KEY.
    import hashlib

    return hashlib.sha256(f"anagen-export-key:{secret_key}".encode()).hexdigest()


#: Signatures made before keying (plain SHA-256) still count, flagged as legacy; set false once
#: every record that matters has been signed again.
ANAGEN_SIGNATURE_ACCEPT_LEGACY = env_bool("ANAGEN_SIGNATURE_ACCEPT_LEGACY", True)
DEBUG = False
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h]

INSTALLED_APPS = [
    # django.contrib.admin whose login goes through allauth and its MFA (accounts.admin_site).
    "anagen.clinic.accounts.admin_apps.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # First of the apps with templates: its allauth/layouts/base.html overrides allauth's own.
    "anagen.clinic.common",
    # Before allauth: its mfa/index.html adds the API tokens to the security page.
    "anagen.clinic.api",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "anagen.clinic.accounts",
    "anagen.clinic.patients",
    "anagen.clinic.intake",
    "anagen.clinic.assessment",
    "anagen.clinic.treatment",
    "anagen.clinic.imaging",
    "anagen.clinic.registry",
    "anagen.clinic.progress",
    "anagen.clinic.review",
    "anagen.clinic.audit",
    "anagen.clinic.fhir",
    "anagen.clinic.spreadsheets",
    "anagen.clinic.privacy",
    "anagen.clinic.demo",
]

MIDDLEWARE = [
    # Refuses an oversized body by its Content-Length before anything reads it (413).
    "anagen.clinic.common.security.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "anagen.clinic.common.security.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "anagen.clinic.common.security.IdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "anagen.clinic.accounts.middleware.RoleAccessMiddleware",
    "anagen.clinic.accounts.middleware.RequireMfaMiddleware",
    # Axes last so that it sees the final authentication result.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "anagen.clinic.urls"
WSGI_APPLICATION = "anagen.clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Every template lives in the app that owns it; project-wide ones in common/templates.
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "anagen.clinic.common.context_processors.navigation",
            ],
            # {% submission_token %} in every template without a {% load %} (common.forms.submit_once).
            "builtins": ["anagen.clinic.common.templatetags.submission"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'anagen.sqlite3'}"),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Several staff write at once: WAL lets readers carry on during a write, IMMEDIATE takes the
    # write lock when a transaction starts (a deferred one that upgrades later fails at once
    # with "database is locked"), and the timeout makes a waiting writer queue, not error.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("ANAGEN_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"

# Uploads: refuse oversized posts early; files are checked again by the upload validators.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 400
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
ANAGEN_MAX_UPLOAD_BYTES = 25 * 1024 * 1024
#: A request whose declared body is larger is refused with 413 before it is read
#: (common.security.RequestSizeLimitMiddleware): one upload plus its form fields.
ANAGEN_MAX_REQUEST_BYTES = int(
    os.environ.get("ANAGEN_MAX_REQUEST_BYTES", ANAGEN_MAX_UPLOAD_BYTES + 1024 * 1024)
)
#: Stored files get random names (common.storage): no patient name or MRN in a file name.
STORAGES = {
    "default": {"BACKEND": "anagen.clinic.common.storage.OpaqueFileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ANAGEN_MAX_IMAGE_PIXELS = 40_000_000
# The trichometry engine fails on larger trichoscopy images (OpenCV's remap is limited to
# 32767 sampled profiles; 6000 × 4000 of dense hair already exceeds it), and a dermatoscope
# field needs far fewer: refused at upload, failed with a message if one is already stored.
ANAGEN_TRICHOSCOPY_MAX_PIXELS = 16_000_000
# A trichoscopy image still queued after this long is re-queued, up to the attempt limit.
ANAGEN_ANALYSIS_STUCK_MINUTES = int(os.environ.get("ANAGEN_ANALYSIS_STUCK_MINUTES", "15"))
ANAGEN_ANALYSIS_MAX_ATTEMPTS = int(os.environ.get("ANAGEN_ANALYSIS_MAX_ATTEMPTS", "3"))

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "intake:home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "anagen.clinic.accounts.adapter.StaffAccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Anagen"
#: Roles that must enrol TOTP before using the clinic when ANAGEN_REQUIRE_MFA is on (and anyone
#: who can reach the admin: accounts.mfa.must_enrol). Off here so the local demo needs no phone;
#: production.py turns it on unless ANAGEN_REQUIRE_MFA=false.
ANAGEN_REQUIRE_MFA = env_bool("ANAGEN_REQUIRE_MFA", False)
ANAGEN_MFA_ROLES = (
    "physician",
    "lab_technician",
    "administrator",
    "auditor",
    "researcher",
    "reviewer",
)

AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "anagen.clinic.accounts.lockout.login_name"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_SENSITIVE_PARAMETERS = ["password", "login"]
#: Reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma separated);
#: the lockout and the rate limits count the client's address (accounts.client_ip).
ANAGEN_TRUSTED_PROXIES = os.environ.get("ANAGEN_TRUSTED_PROXIES", "")
AXES_CLIENT_IP_CALLABLE = "anagen.clinic.accounts.client_ip.client_ip"
RATELIMIT_IP_META_KEY = "anagen.clinic.accounts.client_ip.rate_limit_ip"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 60 * 60
#: Signed out after this long without a request (common.security.IdleTimeoutMiddleware).
ANAGEN_IDLE_TIMEOUT_MINUTES = int(os.environ.get("ANAGEN_IDLE_TIMEOUT_MINUTES", "30"))
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"


def _inline_style_hash(template: Path) -> str:
    # The error pages (500, 503) carry their own <style> in their frame, _error_page.html (they
    # must show when static files are the problem):
    # the policy allows exactly that block by its hash.
    import base64
    import hashlib
    import re

    from django.core.exceptions import ImproperlyConfigured

    found = re.search(r"<style>(.*?)</style>", template.read_text(), re.S)
    if not found:
        raise ImproperlyConfigured(f"{template.name} has no <style> block for the CSP to allow.")
    digest = hashlib.sha256(found.group(1).encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


# Content-Security-Policy (django-csp): scripts and styles from this site only, no inline
# script at all; <style> blocks need the request's nonce; style="" attributes are allowed
# (they cannot run code). Images may be data: URIs (the TOTP QR code).
_ERROR_STYLE = _inline_style_hash(
    Path(__file__).resolve().parents[1] / "common" / "templates" / "_error_page.html"
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", NONCE, _ERROR_STYLE],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
RATELIMIT_USE_CACHE = "default"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Anagen clinic <no-reply@anagen.invalid>")
ANAGEN_CLINIC_NAME = os.environ.get("ANAGEN_CLINIC_NAME", "Demo clinic")
ANAGEN_REMINDER_HOURS_AHEAD = 48
#: The bookable clinic day (local time) and the length of one slot in the booking grid.
ANAGEN_CLINIC_DAY = (
    os.environ.get("ANAGEN_CLINIC_DAY_START", "09:00"),
    os.environ.get("ANAGEN_CLINIC_DAY_END", "17:30"),
)
ANAGEN_SLOT_MINUTES = int(os.environ.get("ANAGEN_SLOT_MINUTES", "30"))
#: Four-eyes release: the lab technician who releases a cell product must not be the one who
#: recorded its processing results. Turn off only where a single technician staffs the lab, and
#: record that decision in the quality manual (docs/guarantees in the README).
ANAGEN_RELEASE_FOUR_EYES = env_bool("ANAGEN_RELEASE_FOUR_EYES", True)
#: API Idempotency-Key (docs/api.md): a key still "in progress" this long after it was claimed
#: belongs to a request that died (worker killed): a retry takes it over and acts. Keep it well
#: above the longest a request may run (gunicorn's timeout, ops/gunicorn.conf.py: 60 s).
ANAGEN_IDEMPOTENCY_STALE_SECONDS = int(os.environ.get("ANAGEN_IDEMPOTENCY_STALE_SECONDS", "300"))
#: Stored responses of idempotent actions are deleted this long after their request (the beat's
#: api-idempotency-purge, or ``manage.py purge_idempotency``): a retry later than that acts again.
ANAGEN_IDEMPOTENCY_KEEP_HOURS = int(os.environ.get("ANAGEN_IDEMPOTENCY_KEEP_HOURS", "24"))

# Celery: eager (in-process) by default; set CELERY_BROKER_URL to a Redis URL to scale out.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", None)
CELERY_TASK_ALWAYS_EAGER = not os.environ.get("CELERY_BROKER_URL")
CELERY_TASK_EAGER_PROPAGATES = True
# Reliability (docs/operations.md, "Reliability"): a job is acknowledged only after it has run,
# so a worker killed mid-job (kill -9, OOM, power) leaves it on the broker and another worker
# runs it again; every job is idempotent (the analysis writes its result only while the image
# is still queued; the outcome and forecast rebuilds recompute from the records). One job
# reserved per worker process at a time, so a dead worker strands at most the one it was running.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis hands an unacknowledged job to another worker after this many seconds; longer than any
# job runs (a shorter one only costs a duplicate run, which the idempotent jobs ignore).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("ANAGEN_CELERY_VISIBILITY_TIMEOUT", "3600"))
}
CELERY_BEAT_SCHEDULE = {
    "appointment-reminders": {
        "task": "anagen.clinic.intake.tasks.send_appointment_reminders",
        "schedule": 15 * 60,
    },
    "trichoscopy-stuck-analyses": {
        "task": "anagen.clinic.imaging.tasks.retry_stuck_analyses",
        "schedule": 5 * 60,
    },
    "cell-products-expiry-sweep": {
        "task": "anagen.clinic.treatment.tasks.expire_products",
        "schedule": 15 * 60,
    },
    "blinded-review-pairs": {
        "task": "anagen.clinic.review.tasks.create_review_pairs",
        "schedule": 6 * 60 * 60,
    },
    "api-idempotency-purge": {
        "task": "anagen.clinic.api.tasks.purge_idempotent_responses",
        "schedule": 60 * 60,
    },
}

REST_FRAMEWORK = {
    # A per-user token for machines (first: its scheme answers a 401), the session (with
    # CSRF) for the browser. Access itself is api.permissions.PolicyPermission (policy.py).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "anagen.clinic.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "anagen.clinic.api.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "anagen.clinic.api.filters.ApiFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["anagen.clinic.api.parsers.SafeJSONParser"],
    "EXCEPTION_HANDLER": "anagen.clinic.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Anagen API",
    "DESCRIPTION": "Clinic API for autologous SVF hair-loss therapy.",
    "VERSION": "1",
    # Swagger UI served from the installed package: nothing is fetched from a CDN.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "anagen.clinic.api.schema.add_links",
    ],
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The API's choice sets, named once (several models have a "status", "kind" or "site").
    "ENUM_NAME_OVERRIDES": {
        "InquiryStatusEnum": "anagen.clinic.intake.models.Inquiry.Status",
        "AppointmentStatusEnum": "anagen.clinic.intake.models.Appointment.Status",
        "AppointmentKindEnum": "anagen.clinic.intake.models.Appointment.Kind",
        "PlanStatusEnum": "anagen.clinic.treatment.models.TreatmentPlan.Status",
        "ProductStatusEnum": "anagen.clinic.treatment.models.CellProduct.Status",
        "QcResultEnum": "anagen.clinic.treatment.models.CellProduct.QC",
        "HarvestSiteEnum": "anagen.clinic.treatment.models.Harvest.Site",
        "AdverseEventSiteEnum": "anagen.clinic.treatment.models.AdverseEvent.Site",
        "CustodyKindEnum": "anagen.clinic.treatment.models.CustodyEvent.Kind",
        "FollowUpKindEnum": "anagen.clinic.treatment.models.ScheduledVisit.Kind",
        "AnalysisStatusEnum": "anagen.clinic.imaging.models.TrichoscopyImage.Status",
        "EligibilityOutcomeEnum": "anagen.clinic.assessment.models.EligibilityDecision.OUTCOMES",
    },
}

# PHI never goes to logs: log records carry ids, never names or contact details.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "celery": {"level": "WARNING"},
        "kombu": {"level": "ERROR"},
        "fontTools": {"level": "WARNING"},
    },
}
