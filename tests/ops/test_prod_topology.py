"""`make prod` / `make prod-stop` (ops/prod.sh): the production topology starts, serves, stops.

Runs the real thing in a scratch directory under var/ on ports of its own: PostgreSQL (its own
cluster), Redis, a Celery worker and beat, gunicorn with WhiteNoise. Twice round: start, start
again (nothing changes), the site answers, stop, stop again (nothing to do). Needs PostgreSQL
15's binaries, redis-server and curl; outside CI a missing one skips with the reason, under
CI=true (.ci/run installs them) it fails.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PGBIN = Path("/usr/lib/postgresql/15/bin")
CI = os.environ.get("CI", "").lower() == "true"

pytestmark = pytest.mark.slow(300)


def _missing() -> str | None:
    if not (PGBIN / "initdb").exists():
        return f"PostgreSQL 15 is not installed ({PGBIN})"
    for tool in ("redis-server", "redis-cli", "curl"):
        if not shutil.which(tool):
            return f"{tool} is not installed"
    if os.geteuid() == 0:
        done = subprocess.run(["id", "postgres"], capture_output=True)
        if done.returncode != 0:
            return "running as root without the 'postgres' system user for the cluster"
    return None


@pytest.fixture
def prod(tmp_path_factory):
    reason = _missing()
    if reason:
        if CI:
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    directory = ROOT / "var" / f"prod-test-{os.getpid()}"
    ports = []
    for _ in range(3):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ANAGEN_"))},
        "PY": sys.executable,
        "ANAGEN_PROD_DIR": str(directory),
        "ANAGEN_PROD_PG_PORT": str(ports[0]),
        "ANAGEN_PROD_REDIS_PORT": str(ports[1]),
        "ANAGEN_PROD_WEB_PORT": str(ports[2]),
        "ANAGEN_PROD_WEB_WORKERS": "1",
    }
    env.pop("DATABASE_URL", None)
    env.pop("CELERY_BROKER_URL", None)

    def run(command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", "ops/prod.sh", command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=400,
        )

    run.url = f"http://127.0.0.1:{ports[2]}"  # type: ignore[attr-defined]
    run.directory = directory  # type: ignore[attr-defined]
    yield run
    run("stop")
    target = directory / "pg"
    if target.is_symlink():
        shutil.rmtree(target.resolve(), ignore_errors=True)
    shutil.rmtree(directory, ignore_errors=True)


def _get(url: str, **headers: str):
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _running(status: str) -> set[str]:
    return {line.split(":")[0] for line in status.splitlines() if line.endswith(": running")}


def test_make_prod_starts_serves_and_stops_twice_round(prod):
    everything = {"gunicorn", "worker", "beat", "redis", "postgresql"}
    for round_ in (1, 2):
        started = time.monotonic()
        first = prod("start")
        assert first.returncode == 0, first.stdout + first.stderr
        assert "ready:" in first.stdout
        again = prod("start")  # idempotent: everything already runs, nothing restarts
        assert again.returncode == 0, again.stdout + again.stderr
        assert again.stdout.count("already running") == 5, again.stdout
        assert _running(prod("status").stdout) == everything

        status, _, body = _get(prod.url + "/health/")
        assert (status, body) == (200, b"ok")
        status, headers, body = _get(prod.url + "/accounts/login/")
        assert status == 200 and b'name="password"' in body
        assert headers["Cache-Control"] == "no-store"
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        # Static files from gunicorn itself (WhiteNoise), with hashed names.
        css = [part for part in body.decode().split('"') if "/static/anagen/clinic." in part]
        assert css and css[0] != "/static/anagen/clinic.css", css
        status, headers, _ = _get(prod.url + css[0])
        assert status == 200 and "max-age=315360000" in headers["Cache-Control"]

        # A 150 MB upload is refused by its declared size, before a byte of the body is sent.
        host, port = prod.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        connection.putrequest("POST", "/patients/new/")
        connection.putheader("Content-Length", str(150 * 1024 * 1024))
        connection.putheader("Content-Type", "multipart/form-data; boundary=x")
        connection.endheaders()
        assert connection.getresponse().status == 413
        connection.close()
        # The access log carries no query string (search terms, filters).
        _get(prod.url + "/accounts/login/?next=/patients/%3Fq%3DRook")
        time.sleep(0.5)
        access = (prod.directory / "log" / "access.log").read_text()
        assert '"GET /accounts/login/"' in access and "Rook" not in access

        stopped = prod("stop")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert _running(prod("status").stdout) == set()
        twice = prod("stop")
        assert twice.returncode == 0 and "stopped" not in twice.stdout, twice.stdout
        print(f"round {round_}: {time.monotonic() - started:.0f} s")
    secrets = prod.directory / "env"
    assert oct(secrets.stat().st_mode & 0o777) == "0o600"
