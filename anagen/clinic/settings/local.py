"""The embedded default of ``make run``: SQLite under var/, eager jobs, console e-mail."""

from .base import *  # noqa: F403
from .base import (
    ANAGEN_EXPORT_KEY,
    ANAGEN_SIGNATURE_KEYS,
    VAR_DIR,
    derived_export_key,
    derived_signature_key,
    env_bool,
)

DEBUG = env_bool("DJANGO_DEBUG", True)
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]


def _local_secret() -> str:
    # A per-checkout random key kept under var/, so no secret is ever committed.
    import secrets

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _local_secret()

if not ANAGEN_SIGNATURE_KEYS:
    ANAGEN_SIGNATURE_KEYS = {"local": derived_signature_key(SECRET_KEY)}
    ANAGEN_SIGNATURE_KEY_ID = "local"
if not ANAGEN_EXPORT_KEY:
    ANAGEN_EXPORT_KEY = derived_export_key(SECRET_KEY)
