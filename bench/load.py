"""Load benchmark: ``make bench-load`` (``.venv/bin/python -m bench.load``).

Starts the production topology of ``make prod`` (ops/prod.sh) in ``var/bench-load`` on ports of
its own, fills it once with the synthetic registry of bench/registry.py (10,000 patients,
100,000 visits), and drives it over loopback with locust (bench/locustfile.py):

1. the staff mix at rising numbers of simulated staff (one request a second each), a step of
   ``--step-seconds`` each, until a step has an error or a 95th percentile above 150 ms; the
   highest step without either is the sustained rate;
2. the same for the bare Django endpoint ``/health/live/`` (the ratio);
3. a soak at 70 % of the sustained rate for ``--soak-seconds`` (600), sampling the resident
   memory of every process of the stack; growth per process kind ≤ 10 %.

The tables go to docs/benchmarks/load.md and a line to README.md. Not run by the tests.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench.readme import publish

ROOT = Path(__file__).resolve().parent.parent
DIR = Path(os.environ.get("ANAGEN_BENCH_DIR", ROOT / "var" / "bench-load"))
PORTS = {
    "ANAGEN_PROD_PG_PORT": "5545",
    "ANAGEN_PROD_REDIS_PORT": "6392",
    "ANAGEN_PROD_WEB_PORT": "8101",
}
HOST = f"http://127.0.0.1:{PORTS['ANAGEN_PROD_WEB_PORT']}"
P95_TARGET_MS = 150.0
STEPS = (4, 8, 12, 16, 24, 32, 48, 64, 96)
#: Requests a second per client of the bare endpoint's ramp (a staff member sends one).
BARE_RATE = 8
MEMORY_NOTE = (
    "Each process alive at both samples (after the warm-up and at the end) is judged on the new "
    "memory it owns: the smaller of its resident-size and unique-size growth, as a share of its "
    "resident size after the warm-up. A leak allocates private pages and raises both. Each of the "
    "two alone also moves without a leak: a forked Celery or gunicorn child writing to pages it "
    "still shares with its parent (copy-on-write) turns them unique without using more memory, "
    "and touching shared pages (PostgreSQL's 128 MB buffer cache as the 10,000-patient registry "
    "warms into it) raises the resident size only. gunicorn's worker recycling (after 2,000 "
    "requests in production) is off for the run, so no worker is replaced and a leak would show."
)

BUILD = """
import json, random, django
django.setup()
from anagen.clinic.accounts.models import User
from anagen.clinic.patients.models import Patient
if not User.objects.filter(email="registry@bench").exists():
    from bench.registry import build_registry
    build_registry(n_patients={n}, n_visits={n} * 10, progress=False)
ids = list(Patient.objects.values_list("pk", flat=True))
random.seed(14)
from tests.clinic.factories import PASSWORD
from allauth.mfa.models import Authenticator
from anagen.clinic.api.services import token_create
from anagen.clinic.common import clock
from anagen.clinic.imaging import services as imaging
from anagen.clinic.imaging.models import Device, ImagingVisit
from anagen.phantoms import PhantomSpec, render_phantom, write_image
# The API reader: a physician with the authenticator app enrolled (a token needs it).
reader, _ = User.objects.get_or_create(
    username="api@bench", defaults={{"email": "api@bench", "role": "physician"}}
)
reader.sites.set(User.objects.get(email="registry@bench").sites.all())
Authenticator.objects.get_or_create(
    user=reader, type=Authenticator.Type.TOTP, defaults={{"data": {{"secret": "bench"}}}}
)
_, api_token = token_create(actor=reader, name="load benchmark", days=1)
# The imaging room's patient: one visit with a target site; every upload adds an image to it.
imager = User.objects.get(email="registry@bench")
patient = Patient.objects.get(pk=ids[0])
visit = ImagingVisit.objects.filter(patient=patient, notes="load benchmark").first()
if visit is None:
    target = imaging.target_site_create(
        actor=imager, patient=patient, zone="vertex", description="load benchmark site"
    )
    visit = imaging.imaging_visit_create(
        actor=imager, patient=patient, taken_on=clock.localdate(), notes="load benchmark"
    )
target = patient.target_sites.order_by("pk").first()
picture = "{directory}/upload.jpg"

image, _ = render_phantom(PhantomSpec(width=1632, height=1224, um_per_px=6.0, seed=14))
write_image(picture, image, jpeg_quality=90)
print(json.dumps({{
    "ids": random.sample(ids, min(500, len(ids))),
    "password": PASSWORD,
    "api_token": api_token,
    "upload": {{"visit": visit.pk, "target_site": target.pk,
                "device": Device.objects.order_by("pk").first().pk, "picture": picture}},
}}))
"""


def _stack_env() -> dict[str, str]:
    base = {**os.environ, "PY": sys.executable, "ANAGEN_PROD_DIR": str(DIR), **PORTS}
    # locust stands in for the clinic's reverse proxy: each simulated member of staff has an
    # address of its own (198.18.0.0/15, the benchmarking range; only ever a header), as behind
    # a real proxy, so the per-address login limits count each person, not the whole load.
    base["ANAGEN_PROD_TRUSTED_PROXIES"] = "127.0.0.1"
    base["ANAGEN_PROD_WEB_WORKERS"] = os.environ.get("ANAGEN_PROD_WEB_WORKERS", "2")
    # No worker recycling: the soak judges a worker's own memory growth, which recycling
    # (max_requests, 2000 in production) would hide.
    base["ANAGEN_GUNICORN_MAX_REQUESTS"] = "0"
    return base


def _prod(command: str) -> str:
    done = subprocess.run(
        ["bash", "ops/prod.sh", command], cwd=ROOT, env=_stack_env(), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"ops/prod.sh {command} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def _django_env() -> dict[str, str]:
    env = dict(os.environ)
    for line in _prod("env").splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = value
    return env


def _locust_env(mode: str, setup: dict) -> dict[str, str]:
    return {
        **os.environ,
        "ANAGEN_BENCH_MODE": mode,
        "ANAGEN_BENCH_RATE": "1" if mode == "mix" else str(BARE_RATE),
        "ANAGEN_BENCH_PATIENTS": json.dumps(setup["ids"]),
        "ANAGEN_BENCH_PASSWORD": setup["password"],
        "ANAGEN_BENCH_API_TOKEN": setup["api_token"],
        "ANAGEN_BENCH_UPLOAD": json.dumps(setup["upload"]),
    }


def _locust_command(users: int, seconds: int, mode: str, prefix: Path) -> list[str]:
    # The mix is `users` simulated staff plus the imaging room's one uploader (a fixed count).
    classes = ["Staff", "ImagingRoom"] if mode == "mix" else ["Staff"]
    total = users + (1 if mode == "mix" else 0)
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        "bench/locustfile.py",
        "--headless",
        "-u",
        str(total),
        "-r",
        str(max(1, total // 2)),
        "-t",
        f"{seconds}s",
        "--host",
        HOST,
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "ERROR",
        *classes,
    ]


def _stats(prefix: Path) -> dict[str, dict[str, float]]:
    rows = {}
    with open(f"{prefix}_stats.csv") as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"]] = {
                "count": float(row["Request Count"]),
                "failures": float(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50": float(row["50%"]),
                "p95": float(row["95%"]),
                "p99": float(row["99%"]),
            }
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        for row in csv.DictReader(failures.open()):
            print(f"  error: {row.get('Name')}: {row.get('Error')} × {row.get('Occurrences')}")
    return rows


def _locust(users: int, seconds: int, mode: str, setup: dict) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as scratch:
        prefix = Path(scratch) / "run"
        subprocess.run(
            _locust_command(users, seconds, mode, prefix),
            cwd=ROOT,
            env=_locust_env(mode, setup),
            capture_output=True,
            text=True,
            timeout=seconds + 120,
        )
        return _stats(prefix)


def _ramp(mode: str, setup: dict, seconds: int) -> tuple[int, dict, list]:
    best_users, best, tried = 0, {}, []
    for users in STEPS:
        rows = _locust(users, seconds, mode, setup)
        total = rows["Aggregated"]
        ok = total["failures"] == 0 and total["p95"] <= P95_TARGET_MS
        tried.append((users, total["rps"], total["p95"], int(total["failures"]), ok))
        print(
            f"{mode}: {users} staff → {total['rps']:.1f} req/s, p95 {total['p95']:.0f} ms, "
            f"{int(total['failures'])} errors",
            flush=True,
        )
        if not ok:
            break
        best_users, best = users, rows
    return best_users, best, tried


def _kind(process: psutil.Process) -> str | None:
    """Which part of this benchmark's stack ``process`` is (None: someone else's process)."""
    try:
        line = " ".join(process.cmdline())
        parent = process.parent()
        parent_line = " ".join(parent.cmdline()) if parent else ""
    except (psutil.Error, OSError):
        return None
    if "redis-server" in line and f":{PORTS['ANAGEN_PROD_REDIS_PORT']}" in line:
        return "redis"
    ours = str(DIR) in line or str(DIR) in parent_line
    if not ours:
        return None
    if "gunicorn" in line:
        return "gunicorn worker" if "gunicorn" in parent_line else "gunicorn master"
    if "celery" in line:
        return "celery beat" if " beat" in line else "celery worker"
    if "postgres" in line:
        return "postgresql (each process)"
    return None


def _memory() -> dict[tuple[int, float], tuple[str, float, float]]:
    """Every process of the stack: (pid, start time) → (kind, resident MB, unique set MB)."""
    found: dict[tuple[int, float], tuple[str, float, float]] = {}
    for process in psutil.process_iter():
        kind = _kind(process)
        if kind is None:
            continue
        try:
            info = process.memory_full_info()
            started = process.create_time()
        except psutil.Error:
            continue
        found[(process.pid, started)] = (kind, info.rss / 2**20, info.uss / 2**20)
    return found


def own_growth(before: tuple[float, float], after: tuple[float, float]) -> float:
    """New memory a process itself owns, MB: the smaller of its resident and unique growth.

    A leak allocates private pages, which raise both. Two things raise only one: a forked
    child writing to pages it shares with its parent (copy-on-write) turns shared pages into
    unique ones without using more memory (unique size up, resident size flat); touching
    shared pages (PostgreSQL's buffer cache) raises the resident size only.
    """
    (rss0, uss0), (rss1, uss1) = before, after
    return min(rss1 - rss0, uss1 - uss0)


#: Processes that live as long as the stack: one replaced during the soak (crashed, killed by
#: a timeout or the out-of-memory killer) fails its row, so a leak cannot leave by dying.
#: PostgreSQL's backends come and go with connections and are judged while they live.
LONG_LIVED = frozenset(
    {"celery beat", "celery worker", "gunicorn master", "gunicorn worker", "redis"}
)


def memory_rows(first: dict, last: dict) -> list[str]:
    """The soak's memory table: per kind of process, every process alive at both samples
    judged on its own new memory; the worst one is shown."""
    kinds = sorted({k for k, _, _ in first.values()})
    lines = [
        "| process | compared | resident after warm-up → end (mean) | unique after warm-up → end "
        "(mean) | own new memory, worst process | ≤ 10 % |",
        "|---|---:|---:|---:|---:|:---:|",
    ]
    for kind in kinds:
        both = [pid for pid, v in first.items() if v[0] == kind and pid in last]
        replaced = sum(1 for pid, v in first.items() if v[0] == kind and pid not in last)
        if kind in LONG_LIVED and replaced:
            lines.append(
                f"| {kind} | {len(both)} | — | — | {replaced} process(es) replaced during the soak | NO |"
            )
            continue
        if not both:
            lines.append(f"| {kind} | 0 | — | — | (no process lived through the soak) | — |")
            continue
        worst_mb, worst_pct = -1e9, -1e9
        for pid in both:
            grown = own_growth(first[pid][1:], last[pid][1:])
            pct = 100.0 * grown / first[pid][1] if first[pid][1] else 0.0
            if pct > worst_pct:
                worst_mb, worst_pct = grown, pct

        def mean(sample: dict, i: int, pids: list[int] = both) -> float:
            return sum(sample[p][i] for p in pids) / len(pids)

        lines.append(
            f"| {kind} | {len(both)} | {mean(first, 1):.0f} → {mean(last, 1):.0f} MB | "
            f"{mean(first, 2):.0f} → {mean(last, 2):.0f} MB | {worst_mb:+.1f} MB ({worst_pct:+.1f} %) | "
            f"{'yes' if worst_pct <= 10 else 'NO'} |"
        )
    return lines


def _soak(users: int, seconds: int, setup: dict) -> tuple[dict, dict, dict]:
    with tempfile.TemporaryDirectory() as scratch:
        prefix = Path(scratch) / "soak"
        runner = subprocess.Popen(
            _locust_command(users, seconds, "mix", prefix),
            cwd=ROOT,
            env=_locust_env("mix", setup),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(min(60, seconds / 5))  # warm-up: caches filled, workers forked
        first = _memory()
        runner.wait(timeout=seconds + 180)
        last = _memory()
        rows = _stats(prefix)
    return first, last, rows


def _table(rows: dict[str, dict[str, float]]) -> list[str]:
    lines = [
        "| page | requests | errors | req/s | p50 | p95 | p99 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in sorted(rows.items(), key=lambda kv: (kv[0] == "Aggregated", kv[0])):
        lines.append(
            f"| {'**all**' if name == 'Aggregated' else name} | {int(r['count'])} | {int(r['failures'])} | "
            f"{r['rps']:.1f} | {r['p50']:.0f} ms | {r['p95']:.0f} ms | {r['p99']:.0f} ms |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--step-seconds", type=int, default=30)
    parser.add_argument("--soak-seconds", type=int, default=600)
    parser.add_argument("--keep-running", action="store_true")
    args = parser.parse_args(argv)
    started = time.time()
    _prod("start")
    env = _django_env()
    built = subprocess.run(
        [sys.executable, "-c", BUILD.format(n=args.patients, directory=DIR)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if built.returncode != 0:
        raise SystemExit("building the registry failed:\n" + built.stderr[-3000:])
    setup = json.loads(built.stdout.strip().splitlines()[-1])

    load_before = os.getloadavg()[0]
    mix_users, mix, mix_tried = _ramp("mix", setup, args.step_seconds)
    bare_users, bare, bare_tried = _ramp("bare", setup, args.step_seconds)
    soak_users = max(1, round(mix_users * 0.7)) if mix_users else STEPS[0]
    first, last, soak_rows = _soak(soak_users, args.soak_seconds, setup)
    soak_total = soak_rows.get("Aggregated", {})
    load_after = os.getloadavg()[0]
    if not args.keep_running:
        _prod("stop")

    mix_rate = mix.get("Aggregated", {}).get("rps", 0.0)
    bare_rate = bare.get("Aggregated", {}).get("rps", 0.0)
    lines = [
        "### Load (`make bench-load`)",
        "",
        f"Production topology of `make prod` on one 2-core machine (gunicorn {env.get('ANAGEN_PROD_WEB_WORKERS', '2')} workers × 2 threads, "
        "PostgreSQL 15, Redis, Celery worker and beat), locust over loopback, synthetic registry of "
        f"{args.patients:,} patients (bench/registry.py). Each simulated member of staff sends about one "
        f"request a second; steps of {args.step_seconds} s; target p95 ≤ {P95_TARGET_MS:.0f} ms with no error.",
        "",
        f"**Sustained staff mix: {mix_rate:.1f} requests/s** ({mix_users} simulated staff) with zero errors and p95 ≤ 150 ms; "
        f"bare Django endpoint on the same stack: {bare_rate:.1f} requests/s ({bare_users} clients); "
        f"ratio {mix_rate / bare_rate if bare_rate else 0:.2f}."
        if mix_users
        else "**No step of the staff mix met p95 ≤ 150 ms with zero errors** (first step shown below).",
        "",
        "Steps (simulated staff → throughput, p95, errors, met):",
        "",
        "| run | staff | req/s | p95 | errors | met |",
        "|---|---:|---:|---:|---:|:---:|",
        *[
            f"| mix | {u} | {r:.1f} | {p:.0f} ms | {f} | {'yes' if ok else 'NO'} |"
            for u, r, p, f, ok in mix_tried
        ],
        *[
            f"| bare | {u} | {r:.1f} | {p:.0f} ms | {f} | {'yes' if ok else 'NO'} |"
            for u, r, p, f, ok in bare_tried
        ],
        "",
        "Per page at the sustained step of the staff mix:",
        "",
        *(_table(mix) if mix else ["(none)"]),
        "",
        f"Soak: {args.soak_seconds} s at {soak_users} simulated staff (70 % of the sustained step): "
        f"{soak_total.get('count', 0):.0f} requests, {soak_total.get('failures', 0):.0f} errors, "
        f"p95 {soak_total.get('p95', 0):.0f} ms.",
        "",
    ]
    lines += memory_rows(first, last)
    lines += [
        "",
        MEMORY_NOTE,
        "",
        f"Machine load average (1 min): {load_before:.1f} before, {load_after:.1f} after (other work on the "
        f"machine counts against the figures). Total {time.time() - started:.0f} s. "
        "The mix: day view, patient list and posted search, patient chart, progress page, registry "
        "page and API reads (a token-holding client: patient, appointments, images) by the simulated staff, "
        "and one imaging room uploading a trichoscopy image every 30 s, analysed by the Celery worker "
        "on the same 2 cores (the upload's time is the request's; the analysis runs after it). "
        f"Python {sys.version.split()[0]}; command: `make bench-load`.",
    ]
    full = "\n".join(lines)
    short = (
        f"Load (`make bench-load`, 2 cores, {args.patients:,} patients): staff mix {mix_rate:.1f} req/s at p95 ≤ 150 ms "
        f"and no error, bare endpoint {bare_rate:.1f} req/s; details in docs/benchmarks/load.md."
    )
    publish("load", short, full)
    print(full)


if __name__ == "__main__":
    main()
