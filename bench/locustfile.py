"""Locust traffic of `make bench-load` (bench/load.py drives it; not a test module).

MIX: a scripted staff mix of a physician working in a 10,000-patient registry: sign in once,
then day view, patient search (posted), patient chart, progress page and, rarely, the registry
page; each simulated member of staff sends about one request a second. BARE: the bare Django
endpoint ``/health/live/`` on the same stack (gunicorn, middleware), for the ratio.
"""

from __future__ import annotations

import json
import os
import random
import re

from locust import FastHttpUser, constant_throughput, tag, task

IDS = json.loads(os.environ.get("ANAGEN_BENCH_PATIENTS", "[]"))
EMAIL = os.environ.get("ANAGEN_BENCH_EMAIL", "registry@bench")
PASSWORD = os.environ.get("ANAGEN_BENCH_PASSWORD", "")
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Staff(FastHttpUser):
    wait_time = constant_throughput(1)

    def on_start(self) -> None:
        if os.environ.get("ANAGEN_BENCH_MODE") == "bare":
            return
        page = self.client.get("/accounts/login/", name="login page")
        token = TOKEN.search(page.text or "")
        self.client.post(
            "/accounts/login/",
            data={
                "login": EMAIL,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            headers={"Referer": self.host + "/accounts/login/"},
            name="login",
        )

    def _mix(self) -> bool:
        return os.environ.get("ANAGEN_BENCH_MODE") != "bare"

    @task(6)
    def day_view(self) -> None:
        if self._mix():
            self.client.get("/day/", name="day view")
        else:
            self.client.get("/health/live/", name="bare endpoint")

    @task(10)
    def chart(self) -> None:
        if self._mix():
            self.client.get(f"/patients/{random.choice(IDS)}/", name="patient chart")
        else:
            self.client.get("/health/live/", name="bare endpoint")

    @task(4)
    def search(self) -> None:
        if not self._mix():
            self.client.get("/health/live/", name="bare endpoint")
            return
        page = self.client.get("/patients/", name="patient list")
        token = TOKEN.search(page.text or "")
        self.client.post(
            "/patients/",
            data={
                "q": f"Registry {random.randint(1, 10000):05d}",
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            headers={"Referer": self.host + "/patients/"},
            name="patient search (posted)",
        )

    @task(6)
    def progress(self) -> None:
        if self._mix():
            self.client.get(f"/progress/patients/{random.choice(IDS)}/", name="progress page")
        else:
            self.client.get("/health/live/", name="bare endpoint")

    @task(1)
    def registry(self) -> None:
        if self._mix():
            self.client.get("/registry/", name="registry page")
        else:
            self.client.get("/health/live/", name="bare endpoint")


__all__ = ["Staff", "tag"]
