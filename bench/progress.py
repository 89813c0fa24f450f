"""Benchmark of the patient progress page: run as ``.venv/bin/python -m bench.progress``.

The page and its plot are timed through Django's test client (server time: URL routing,
middleware, queries, template, response) for a patient with a baseline and four follow-up
visits at one target site, one session given and two still planned:

1. the page plus its plot as they work now: the stored snapshot (forecast JSON and PNG) is read;
2. the old way, per request: the follicle model calibrated and its 300-member ensemble run for
   the page, and again for the plot with the figure drawn (what the page did before).

The table is published into README.md (section ``bench:progress``) and
``docs/benchmarks/progress.md``. Timings are the best and the median of several repeats on a
fresh SQLite test database (the machine is shared, so single timings are noisy).
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anagen.clinic.settings.test")
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import io  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import date, timedelta  # noqa: E402

import django  # noqa: E402

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from PIL import Image  # noqa: E402

TARGET_S = 0.200


def _timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def _png(seed: int) -> SimpleUploadedFile:
    from anagen.phantoms.render import PhantomSpec, render_phantom

    image, _ = render_phantom(PhantomSpec(width=480, height=360, seed=seed, um_per_px=6.0))
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG")
    return SimpleUploadedFile(f"p{seed}.png", buffer.getvalue(), content_type="image/png")


def _world():
    """A clinic with one measured, treated patient (through the services, like the clinic)."""
    from django.utils import timezone

    from anagen.clinic.accounts.models import Site, User
    from anagen.clinic.imaging import services as imaging
    from anagen.clinic.imaging.models import Device
    from anagen.clinic.patients.services import patient_create
    from anagen.clinic.progress.services import snapshots_refresh
    from anagen.clinic.registry.services import outcomes_refresh
    from anagen.clinic.treatment.models import TreatmentSession
    from tests.clinic.conftest import PASSWORD
    from tests.clinic.treatment_helpers import administer, consented_plan, released_product

    site = Site.objects.create(code="BEN", name="Bench")

    def user(role: str) -> User:
        u = User.objects.create_user(
            username=f"{role}@bench", email=f"{role}@bench", password=PASSWORD, role=role
        )
        u.sites.set([site])
        return u

    physician, nurse, lab, coordinator = (
        user(r) for r in ("physician", "nurse", "lab_technician", "coordinator")
    )
    patient = patient_create(
        actor=coordinator,
        site=site,
        given_name="Bench",
        family_name="Patient",
        date_of_birth=date(1985, 5, 5),
        sex="male",
        phone="+44 20 7946 0001",
    )
    day0 = date.today() - timedelta(days=200)
    device = Device.objects.create(name="Dermatoscope", magnification="20×", um_per_px=6.0)
    target = imaging.target_site_create(
        actor=nurse, patient=patient, zone="vertex", description="Vertex"
    )
    for k, offset in enumerate((0, 30, 60, 90, 180)):
        visit = imaging.imaging_visit_create(
            actor=nurse, patient=patient, taken_on=day0 + timedelta(days=offset)
        )
        imaging.photo_upload(actor=nurse, visit=visit, view="top", image=_png(10 + k))
        record = imaging.trichoscopy_upload(
            actor=nurse, visit=visit, target_site=target, device=device, image=_png(k + 1)
        )
        imaging.trichoscopy_analyse(record=record)
    plan = consented_plan(physician, nurse, patient)
    session = administer(physician, nurse, plan, released_product(physician, lab, plan))
    started = timezone.make_aware(
        timezone.datetime.combine(day0 + timedelta(days=5), timezone.datetime.min.time())
    ) + timedelta(hours=10)
    TreatmentSession.objects.filter(pk=session.pk).update(started_at=started)
    outcomes_refresh(patient=patient)
    snapshots_refresh(patient=patient)
    return physician, patient, target


def run(repeats: int = 15) -> str:
    from anagen.clinic.progress import forecast
    from anagen.clinic.progress.selectors import forecast_inputs

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0)
    try:
        physician, patient, target = _world()
        client = Client()
        client.force_login(physician)
        page_url = reverse("progress:patient", args=[patient.pk])
        plot_url = reverse("progress:plot", args=[patient.pk, target.pk])

        def stored() -> None:
            page = client.get(page_url)
            plot = client.get(plot_url)
            assert page.status_code == plot.status_code == 200
            assert b"being updated" not in page.content

        def per_request() -> None:
            # the page's forecast, then the plot's own forecast and figure (the old views)
            page = client.get(page_url)
            inputs = forecast_inputs(target_site=target)
            forecast.site_forecast(inputs)
            again = forecast_inputs(target_site=target)
            forecast.progress_png(again, forecast.site_forecast(again))
            assert page.status_code == 200

        stored()  # warm the template cache
        best_new, med_new = _timed(stored, repeats)
        best_old, med_old = _timed(per_request, max(3, repeats // 5))
        page_only, page_med = _timed(lambda: client.get(page_url), repeats)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    def ms(s: float) -> str:
        return f"{1000 * s:,.0f} ms"

    ok = "yes" if best_new <= TARGET_S else "NO"
    lines = [
        "| progress page + plot (server time) | best | median | target ≤ 200 ms |",
        "|---|---:|---:|:---:|",
        f"| stored snapshot (now): page | {ms(page_only)} | {ms(page_med)} | "
        f"{'yes' if page_only <= TARGET_S else 'NO'} |",
        f"| stored snapshot (now): page + plot | {ms(best_new)} | {ms(med_new)} | {ok} |",
        f"| model per request (before): page + plot | {ms(best_old)} | {ms(med_old)} | "
        f"{'yes' if best_old <= TARGET_S else 'NO'} |",
        "",
        f"Speed-up (medians): {med_old / med_new:,.0f}×. One patient, five analysed visits at one "
        "target site, one session given and two planned; SQLite; Django test client (routing, "
        f"middleware, queries, template). Python {platform.python_version()}, "
        f"{platform.machine()}; command: `.venv/bin/python -m bench.progress`.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    from bench.readme import publish

    table = run()
    print(table)
    publish("progress", "### Progress page\n\n" + table)
