"""PHI never reaches a log: full flows against a live gunicorn, every line it writes is read.

A real gunicorn (ops/gunicorn.conf.py, access log on, the app's logging to stderr at INFO) serves
the test database. A coordinator signs in, registers a patient, searches by name, MRN and date of
birth, opens the chart and the edit page; a member of the public sends a call-back request; a
wrong password is typed. Then every line of the server's stdout and stderr (access log, error
log, every Django and Celery handler: they all write to the process's console), and every record
this test process logged, are searched for the patient's name, MRN, date of birth (in the forms
the clinic writes it), phone and e-mail. The search terms are also absent from every URL.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from anagen.clinic.accounts.roles import Role
from anagen.clinic.patients.models import Patient
from tests.clinic.factories import PASSWORD, SiteFactory, staff_at

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow(40)]
ROOT = Path(__file__).resolve().parents[2]

GIVEN, FAMILY = "Ottoline", "Quillfeatherby"
BORN = "1977-03-14"
PHONE, EMAIL = "+44 7700 900461", "ottoline.quill@example.test"
CALLER, CALLER_PHONE, CALLER_EMAIL = (
    "Perpetua Wintersloe",
    "+44 7700 900777",
    "p.winter@example.test",
)


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Browser:
    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.visited: list[str] = []

    def get(self, path: str) -> str:
        return self._open(urllib.request.Request(self.base + path))  # noqa: S310

    def post(self, path: str, data: dict[str, str], page: str | None = None) -> str:
        form = page if page is not None else self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        fields = {"csrfmiddlewaretoken": token, **data}
        submission = re.search(r'name="form_token" value="([^"]+)"', form)
        if submission:
            fields["form_token"] = submission.group(1)
        body = urllib.parse.urlencode(fields).encode()
        return self._open(
            urllib.request.Request(  # noqa: S310
                self.base + path, data=body, headers={"Referer": self.base + path}
            )
        )

    def _open(self, request: urllib.request.Request) -> str:
        try:
            with self.opener.open(request, timeout=60) as response:
                self.visited.append(response.geturl())
                return response.read().decode()
        except urllib.error.HTTPError as error:
            self.visited.append(error.geturl())
            return error.read().decode()


@pytest.fixture
def server(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    output = tmp_path / "server.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "anagen.clinic.settings.test",
        "DATABASE_URL": _database_url(),
    }
    with output.open("w") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "ops/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--access-logfile",
                "-",
                "--error-logfile",
                "-",
                "--log-level",
                "debug",
            ],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/health/live/", timeout=5).read()  # noqa: S310
            break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("gunicorn did not start: " + output.read_text())
    yield base, output
    process.terminate()
    process.wait(timeout=30)


def test_no_patient_detail_in_any_log_line(server, caplog):
    caplog.set_level("DEBUG")
    base, output = server
    site = SiteFactory(code="LDN")
    coordinator = staff_at(site)[Role.COORDINATOR]

    staff = Browser(base)
    page = staff.post("/accounts/login/", {"login": coordinator.email, "password": "wrong-one-x"})
    assert "password" in page
    staff.post("/accounts/login/", {"login": coordinator.email, "password": PASSWORD})
    chart = staff.post(
        "/patients/new/",
        {
            "site": str(site.pk),
            "given_name": GIVEN,
            "family_name": FAMILY,
            "date_of_birth": BORN,
            "sex": "female",
            "phone": PHONE,
            "email": EMAIL,
            "address": "1 Lantern Yard, Oxford",
        },
    )
    patient = Patient.objects.get(family_name=FAMILY)
    assert FAMILY in chart and patient.mrn in chart
    for term in (FAMILY, patient.mrn, BORN, "14/03/1977"):
        listing = staff.post("/patients/", {"q": term})
        assert f"/patients/{patient.pk}/" in listing, term
    staff.get("/patients/?page=1")
    staff.get(f"/patients/{patient.pk}/")
    staff.get(f"/patients/{patient.pk}/edit/")
    staff.get("/day/")

    public = Browser(base)
    public.post(
        "/request/",
        {
            "full_name": CALLER,
            "phone": CALLER_PHONE,
            "email": CALLER_EMAIL,
            "preferred_site": str(site.pk),
            "consent_to_contact": "on",
        },
    )
    from anagen.clinic.intake.models import Inquiry

    assert Inquiry.objects.filter(phone__contains="900777").exists()
    time.sleep(1)  # let the access log flush

    server_lines = output.read_text()
    assert '"POST /patients/"' in server_lines and '"GET /patients/' in server_lines
    logged = server_lines + "\n".join(r.getMessage() for r in caplog.records)
    values = [
        GIVEN,
        FAMILY,
        patient.mrn,
        BORN,
        "14/03/1977",
        "14 Mar 1977",
        "1977",
        PHONE,
        PHONE.replace(" ", ""),
        "900461",
        EMAIL,
        "ottoline",
        CALLER,
        "Wintersloe",
        "900777",
        CALLER_EMAIL,
    ]
    # The check itself sees the server's lines (the access log and the app's own records).
    assert "[INFO]" in server_lines or "[DEBUG]" in server_lines
    leaked = [v for v in values if v.lower() in logged.lower()]
    assert not leaked, (leaked, logged[-3000:])
    urls = " ".join(staff.visited + public.visited)
    assert not [v for v in (FAMILY, patient.mrn, BORN, "1977") if v in urls], urls
