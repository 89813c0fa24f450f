"""Suite-wide rules: tests that need a real server run when it is there.

Outside CI a missing Chromium, PostgreSQL or Redis skips those tests with the reason shown.
Under CI=true (`.ci/run` installs and starts all three) a missing one is a failure, never a skip.
"""

from __future__ import annotations

import os
import shutil

import pytest

CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = "/usr/bin/chromium"


def _missing(marker: str) -> str | None:
    if marker == "browser" and not os.path.exists(CHROMIUM):
        return f"Debian's chromium is not installed at {CHROMIUM}"
    if marker == "postgres" and not os.environ.get("TEST_POSTGRES_URL"):
        return "TEST_POSTGRES_URL is not set (no PostgreSQL server)"
    if marker == "redis" and not (
        os.environ.get("TEST_REDIS_URL") and shutil.which("redis-server")
    ):
        return "TEST_REDIS_URL is not set (no Redis server)"
    return None


def pytest_runtest_setup(item):
    for marker in ("browser", "postgres", "redis"):
        if item.get_closest_marker(marker) is None:
            continue
        reason = _missing(marker)
        if reason is None:
            continue
        if CI:
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
