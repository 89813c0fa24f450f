"""Locust traffic of `make bench-load` (bench/load.py drives it; not a test module).

MIX: a scripted staff mix of a physician working in a 10,000-patient registry: sign in once,
then day view, patient search (posted), patient chart, progress page, API reads with a token
(an integration reading a patient, their appointments and images) and, rarely, the registry
page; each simulated member of staff sends about one request a second. Beside them, one imaging
room (``ImagingRoom``) uploads a trichoscopy image every 30 s; the Celery worker analyses it.
BARE: the bare Django endpoint ``/health/live/`` on the same stack (gunicorn, middleware), for
the ratio.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re

from locust import FastHttpUser, constant_throughput, tag, task

IDS = json.loads(os.environ.get("ANAGEN_BENCH_PATIENTS", "[]"))
EMAIL = os.environ.get("ANAGEN_BENCH_EMAIL", "registry@bench")
PASSWORD = os.environ.get("ANAGEN_BENCH_PASSWORD", "")
API_TOKEN = os.environ.get("ANAGEN_BENCH_API_TOKEN", "")
UPLOAD = json.loads(os.environ.get("ANAGEN_BENCH_UPLOAD", "{}"))
_ADDRESSES = itertools.count(random.randint(0, 10_000))
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class _SignedIn(FastHttpUser):
    abstract = True
    address = "198.18.0.1"

    def on_start(self) -> None:
        # Stand-in for the reverse proxy: one client address per simulated member of staff.
        number = next(_ADDRESSES)
        self.address = f"198.18.{number // 250 % 250}.{number % 250 + 1}"
        if os.environ.get("ANAGEN_BENCH_MODE") == "bare":
            return
        page = self._get("/accounts/login/", name="login page")
        token = TOKEN.search(page.text or "")
        self.client.post(
            "/accounts/login/",
            data={
                "login": EMAIL,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            headers={"Referer": self.host + "/accounts/login/", "X-Forwarded-For": self.address},
            name="login",
        )

    def _get(self, path: str, name: str):  # type: ignore[no-untyped-def]
        return self.client.get(path, name=name, headers={"X-Forwarded-For": self.address})


class ImagingRoom(_SignedIn):
    """One imaging room: a trichoscopy image uploaded every 30 s (then analysed by Celery)."""

    fixed_count = 1
    wait_time = constant_throughput(1 / 30)

    @task
    def upload(self) -> None:
        visit = f"/imaging/visits/{UPLOAD['visit']}/"
        page = self._get(visit, name="imaging visit")
        token = TOKEN.search(page.text or "")
        with open(UPLOAD["picture"], "rb") as picture:
            self.client.post(
                visit,
                data={
                    "csrfmiddlewaretoken": token.group(1) if token else "",
                    "tricho-target_site": str(UPLOAD["target_site"]),
                    "tricho-device": str(UPLOAD["device"]),
                },
                files={"tricho-image": ("site.jpg", picture, "image/jpeg")},
                headers={"Referer": self.host + visit, "X-Forwarded-For": self.address},
                name="trichoscopy upload",
            )


class Staff(_SignedIn):
    # Requests a second per simulated user: 1 for staff, more for the bare endpoint's ramp.
    wait_time = constant_throughput(float(os.environ.get("ANAGEN_BENCH_RATE", "1")))

    def _mix(self) -> bool:
        return os.environ.get("ANAGEN_BENCH_MODE") != "bare"

    @task(6)
    def day_view(self) -> None:
        if self._mix():
            self._get("/day/", name="day view")
        else:
            self._get("/health/live/", name="bare endpoint")

    @task(10)
    def chart(self) -> None:
        if self._mix():
            self._get(f"/patients/{random.choice(IDS)}/", name="patient chart")
        else:
            self._get("/health/live/", name="bare endpoint")

    @task(4)
    def search(self) -> None:
        if not self._mix():
            self._get("/health/live/", name="bare endpoint")
            return
        page = self._get("/patients/", name="patient list")
        token = TOKEN.search(page.text or "")
        self.client.post(
            "/patients/",
            data={
                "q": f"Registry {random.randint(1, 10000):05d}",
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            headers={"Referer": self.host + "/patients/", "X-Forwarded-For": self.address},
            name="patient search (posted)",
        )

    @task(6)
    def progress(self) -> None:
        if self._mix():
            self._get(f"/progress/patients/{random.choice(IDS)}/", name="progress page")
        else:
            self._get("/health/live/", name="bare endpoint")

    @task(3)
    def api_reads(self) -> None:
        if not self._mix():
            self._get("/health/live/", name="bare endpoint")
            return
        patient = random.choice(IDS)
        headers = {"Authorization": f"Bearer {API_TOKEN}", "X-Forwarded-For": self.address}
        path, name = random.choice(
            [
                (f"/api/v1/patients/{patient}/", "API: patient"),
                (f"/api/v1/appointments/?patient={patient}", "API: appointments"),
                (f"/api/v1/images/?visit__patient={patient}", "API: images"),
            ]
        )
        self.client.get(path, name=name, headers=headers)

    @task(1)
    def registry(self) -> None:
        if self._mix():
            self._get("/registry/", name="registry page")
        else:
            self._get("/health/live/", name="bare endpoint")


__all__ = ["Staff", "tag"]
