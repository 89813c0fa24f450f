"""Settings for the test suite."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import derived_export_key, derived_signature_key

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# A real worker started by a test reads the test process's files (ANAGEN_TEST_MEDIA_ROOT).
MEDIA_ROOT = Path(
    os.environ.get("ANAGEN_TEST_MEDIA_ROOT") or tempfile.mkdtemp(prefix="anagen-test-media-")
)
CELERY_TASK_ALWAYS_EAGER = not os.environ.get("CELERY_BROKER_URL")
AXES_ENABLED = True
ANAGEN_SIGNATURE_KEYS = {"test": derived_signature_key(SECRET_KEY)}
ANAGEN_SIGNATURE_KEY_ID = "test"
ANAGEN_EXPORT_KEY = derived_export_key(SECRET_KEY)

# A file (not in-memory) SQLite test database, so that a real Celery worker started by the
# Redis tests can open the same database as the test process.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # One file per test process, so concurrent runs never share a database.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(VAR_DIR / f"test-anagen-{os.getpid()}.sqlite3")  # noqa: F405
    }
