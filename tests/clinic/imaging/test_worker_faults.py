"""Analysis jobs through a real Redis broker to real Celery workers, under faults.

* a worker killed with SIGKILL in the middle of an analysis: the job stays on the broker
  (acknowledged only after it runs), a new worker runs it, and the image gets exactly one
  result; the same job sent again writes nothing;
* Redis itself killed and restarted (a private server with an append-only file) while a worker
  is analysing: every job queued before the restart is still analysed after it;
* a job that no worker ever runs: the stuck sweep (``manage.py recover_stuck_jobs``, which the
  beat runs as ``imaging.tasks.retry_stuck_analyses``) sends it again, then fails the image with
  a message the staff see on its page.

These run in the PostgreSQL leg (``make test-postgres`` / ``.ci/run``) with TEST_REDIS_URL set;
on the SQLite leg they skip, saying so. Under CI=true a missing Redis fails (tests/conftest.py).
docs/operations.md ("Reliability") has the commands and their output.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.imaging import dispatch, services
from anagen.clinic.imaging.models import TrichoscopyImage
from tests.clinic.imaging_helpers import imaging_world, phantom_png, upload

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow(60),
]

ROOT = Path(__file__).resolve().parents[3]
#: Redis database for these tests (the shared server's /0 is the existing worker test's).
REDIS_DB = 5


@pytest.fixture(autouse=True)
def _postgres_leg():
    if connection.vendor != "postgresql":
        pytest.skip("runs in the PostgreSQL leg (make test-postgres); this run uses SQLite")


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _shared_broker() -> str:
    parts = urlsplit(os.environ["TEST_REDIS_URL"])
    return urlunsplit(parts._replace(path=f"/{REDIS_DB}"))


def _wait(condition, *, timeout: float, what: str, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Workers:
    """Starts real Celery workers (``python -m tests.clinic.imaging.slow_worker``) on one queue."""

    def __init__(self, broker: str, tmp: Path) -> None:
        self.broker = broker
        self.queue = f"reliability-{uuid.uuid4().hex[:10]}"
        self.started = tmp / "started"
        self.started.mkdir()
        self.logs = tmp
        self.processes: list[subprocess.Popen] = []
        # Not the current app: the project's own (eager in tests) stays the one jobs go to.
        self.client = Celery(broker=broker, backend=broker, set_as_current=False)

    def start(self, *, pause: float = 0.0) -> subprocess.Popen:
        env = {
            **os.environ,
            "CELERY_BROKER_URL": self.broker,
            "CELERY_RESULT_BACKEND": self.broker,
            "DATABASE_URL": _database_url(),
            "DJANGO_SETTINGS_MODULE": "anagen.clinic.settings.test",
            "ANAGEN_TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "ANAGEN_TEST_STARTED_DIR": str(self.started),
            "ANAGEN_TEST_ANALYSIS_PAUSE": str(pause),
            # A job whose worker died goes back to the queue this many seconds after delivery.
            "ANAGEN_CELERY_VISIBILITY_TIMEOUT": "5",
        }
        n = len(self.processes)
        log = open(self.logs / f"worker-{n}.log", "wb")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.clinic.imaging.slow_worker",
                "-A",
                "anagen.clinic",
                "worker",
                "--pool=solo",
                "-Q",
                self.queue,
                "-n",
                f"{self.queue}-{n}@%h",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def starts(self) -> int:
        return len(list(self.started.iterdir()))

    def log(self, n: int) -> str:
        return (self.logs / f"worker-{n}.log").read_text(errors="replace")

    def send(self, task_name: str, *args: object):
        return self.client.send_task(task_name, args=args, queue=self.queue)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def workdir():
    path = Path(tempfile.mkdtemp(prefix="anagen-reliability-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _through_broker(monkeypatch, workers: Workers) -> None:
    """The imaging services' enqueue goes to the real broker (on commit, as in production)."""

    def send_on_commit(task_name: str, *args: object) -> None:
        transaction.on_commit(lambda: workers.send(task_name, *args))

    monkeypatch.setattr(dispatch, "send_on_commit", send_on_commit)


def _upload(staff, world, seed: int) -> TrichoscopyImage:
    return services.trichoscopy_upload(
        actor=staff[Role.NURSE],
        visit=world["visit"],
        target_site=world["site"],
        device=world["device"],
        image=upload(f"t{seed}.png", phantom_png(seed)),
    )


def _status(pk: int) -> str:
    return TrichoscopyImage.objects.values_list("status", flat=True).get(pk=pk)


def _written_once(pk: int) -> None:
    """One result: one history row that set it, one overlay file in storage."""
    record = TrichoscopyImage.objects.get(pk=pk)
    assert record.status == "analysed", record.error
    analysed_rows = [
        row
        for row in record.history.order_by("history_id")
        if row.status == "analysed" and row.prev_record and row.prev_record.status != "analysed"
    ]
    assert len(analysed_rows) == 1
    assert record.history.filter(status="analysed").count() == 1
    # Stored names are random (no MRN, no id): a second write would leave a file no record names.
    assert record.overlay and (Path(settings.MEDIA_ROOT) / record.overlay.name).exists()
    named = {Path(name).name for name in TrichoscopyImage.objects.values_list("overlay", flat=True)}
    since = record.uploaded_at.timestamp()  # other tests' files share the folder
    on_disk = {
        f.name
        for f in (Path(settings.MEDIA_ROOT) / "overlays").iterdir()
        if f.stat().st_mtime >= since
    }
    assert on_disk <= named, on_disk - named


def test_worker_killed_mid_analysis_job_redelivered_and_written_once(
    staff, patient, monkeypatch, workdir
):
    world = imaging_world(staff[Role.NURSE], patient)
    workers = Workers(_shared_broker(), workdir)
    try:
        _through_broker(monkeypatch, workers)
        record = _upload(staff, world, seed=11)
        assert _status(record.pk) == "queued"
        first = workers.start(pause=600)  # pauses inside the analysis until killed
        _wait(lambda: workers.starts() == 1, timeout=90, what="the first worker to start the job")
        # Past the visibility timeout, so the next worker takes the job back at once.
        time.sleep(6)
        assert _status(record.pk) == "queued"  # mid-analysis: nothing written yet
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL
        assert _status(record.pk) == "queued"
        workers.start(pause=0)
        _wait(
            lambda: _status(record.pk) != "queued",
            timeout=120,
            what="the new worker to run the redelivered job",
        )
        assert workers.starts() == 2  # the job ran again, on the new worker
        _written_once(record.pk)
        record.refresh_from_db()
        assert record.analysis_attempts == 1  # the broker redelivered it, not the stuck sweep
        # The same job delivered once more: a no-op that reports the image's status.
        again = workers.send(dispatch.ANALYSE_TRICHOSCOPY, record.pk)
        assert again.get(timeout=60) == "analysed"
        _written_once(record.pk)
        assert workers.starts() == 2  # the engine did not even run
    finally:
        workers.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A redis-server of the test's own, persisting every write to an append-only file."""

    def __init__(self, tmp: Path) -> None:
        self.port = _free_port()
        self.dir = tmp / "redis"
        self.dir.mkdir()
        self.process: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        redis_server = shutil.which("redis-server")
        assert redis_server, "redis-server is not installed"
        self.process = subprocess.Popen(
            [
                redis_server,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.dir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        _wait(lambda: self._ping(client), timeout=20, what="the private redis-server")

    @staticmethod
    def _ping(client) -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def test_redis_restarted_mid_run_loses_no_job(staff, patient, monkeypatch, workdir):
    world = imaging_world(staff[Role.NURSE], patient)
    server = PrivateRedis(workdir)
    server.start()
    workers = Workers(server.url, workdir)
    try:
        _through_broker(monkeypatch, workers)
        records = [_upload(staff, world, seed=20 + i) for i in range(3)]
        queue = redis.Redis.from_url(server.url)
        assert queue.llen(workers.queue) == 3
        workers.start(pause=3)
        _wait(lambda: workers.starts() >= 1, timeout=90, what="the worker to start a job")
        server.kill()  # SIGKILL: no shutdown save; only the append-only file remains
        time.sleep(1)
        server.start()  # same port, same directory: the queue comes back from the AOF
        assert queue.llen(workers.queue) + queue.hlen("unacked") >= 2
        _wait(
            lambda: all(_status(r.pk) != "queued" for r in records),
            timeout=240,
            what="every job queued before the restart to finish",
        )
        for record in records:
            _written_once(record.pk)
    finally:
        workers.stop()
        server.stop()


def test_job_no_worker_runs_is_retried_then_failed_with_a_message(
    client, staff, patient, monkeypatch, workdir
):
    world = imaging_world(staff[Role.NURSE], patient)
    workers = Workers(_shared_broker(), workdir)
    broker = redis.Redis.from_url(workers.broker)
    try:
        _through_broker(monkeypatch, workers)
        record = _upload(staff, world, seed=31)  # queued; no worker listens on this queue
        assert broker.llen(workers.queue) == 1
        moment = record.analysis_queued_at
        limit = settings.ANAGEN_ANALYSIS_MAX_ATTEMPTS
        for attempt in range(2, limit + 1):
            moment += timedelta(minutes=settings.ANAGEN_ANALYSIS_STUCK_MINUTES + 1)
            call_command("recover_stuck_jobs", now=moment.isoformat())
            record.refresh_from_db()
            assert (record.status, record.analysis_attempts) == ("queued", attempt)
            assert broker.llen(workers.queue) == attempt  # sent again through the broker
        moment += timedelta(minutes=settings.ANAGEN_ANALYSIS_STUCK_MINUTES + 1)
        call_command("recover_stuck_jobs", now=moment.isoformat())
        record.refresh_from_db()
        assert record.status == "failed"
        assert record.error.startswith(f"analysis did not finish after {limit} attempts")
        client.force_login(staff[Role.NURSE])
        page = client.get(reverse("imaging:visit", args=[world["visit"].pk])).content.decode()
        assert "Analysis failed: analysis did not finish after" in page
        assert "Retry analysis" in page
        # A worker that comes back later finds the stale copies: each is a no-op.
        workers.start(pause=0)
        _wait(lambda: broker.llen(workers.queue) == 0, timeout=90, what="the stale jobs to drain")
        time.sleep(1)
        record.refresh_from_db()
        assert record.status == "failed" and workers.starts() == 0
    finally:
        workers.stop()
        broker.delete(workers.queue)
