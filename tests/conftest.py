"""Suite-wide rules: tests that need a real server run when it is there; slow tests start first.

Outside CI a missing Chromium, PostgreSQL or Redis skips those tests with the reason shown.
Under CI=true (`.ci/run` installs and starts all three) a missing one is a failure, never a skip.

Scheduling: ``make test`` runs ``pytest -n 2 --dist loadgroup``. No test declares an
``xdist_group`` (and with pytest 9.2 + pytest-xdist 3.8 a group would be silently ignored:
pytest-dev/pytest-xdist#1386), so every test is its own unit, handed to whichever worker is free.
Tests marked ``slow(seconds)`` are moved to the front, longest first, so the stateful pathway
test (the longest by far) starts at once on one worker while the other works through the rest;
docs/testing.md has the measurements and a comparison with ``--dist worksteal``.
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


def pytest_collection_modifyitems(config, items):
    def expected_seconds(item) -> float:
        marker = item.get_closest_marker("slow")
        return float(marker.args[0]) if marker and marker.args else 0.0

    items.sort(key=lambda item: -expected_seconds(item))  # stable: the rest keep their order


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


@pytest.fixture(autouse=True)
def _fresh_cache(request):
    """Each database test starts with an empty cache: ids come back after a test's rollback,
    so a key built from them (the registry's outcome-table version) could match another
    test's cached data. Tests of the pure libraries never load Django for this."""
    if request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(
        request.fixturenames
    ):
        from django.core.cache import cache

        cache.clear()
    yield
