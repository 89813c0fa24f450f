"""Analysis failures: whatever the engine raises, the image ends `failed` with a message in
clinic words and its file kept; oversized images; batch re-analysis; stuck queued images."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import cv2
import numpy as np
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from anagen import trichometry
from anagen.clinic.accounts.roles import Role
from anagen.clinic.imaging import services
from anagen.clinic.imaging.models import TrichoscopyImage
from anagen.clinic.imaging.tasks import analyse_trichoscopy, retry_stuck_analyses
from anagen.phantoms.render import PhantomSpec, render_phantom
from tests.clinic.imaging_helpers import UM_PER_PX, imaging_world, phantom_png, upload

pytestmark = pytest.mark.django_db

#: An upload name that carries a patient's name, as clinics' files often do.
PHI_NAME = "ada-quill-vertex.png"


@pytest.fixture
def world(staff, patient):
    return imaging_world(staff[Role.NURSE], patient)


def _blank_png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 170, 150)).save(buffer, "PNG")
    return buffer.getvalue()


def _stored(world, staff, data: bytes, name: str = PHI_NAME) -> TrichoscopyImage:
    """An image already in storage (e.g. uploaded before a limit existed), queued."""
    record = TrichoscopyImage(
        visit=world["visit"],
        target_site=world["site"],
        device=world["device"],
        uploaded_by=staff[Role.NURSE],
        analysis_attempts=1,
        analysis_queued_at=timezone.now(),
    )
    record.image.save(name, ContentFile(data), save=False)
    record.save()
    return record


def _assert_clinic_words(text: str) -> None:
    for leak in ("Error", "error:", "cv2", "Traceback", "/", ".py", PHI_NAME):
        assert leak not in text, (leak, text)


def _engine_crash(*args, **kwargs):
    # What OpenCV raised on the 6000 × 6000 image (cv2.error is not a ValueError or OSError).
    raise cv2.error(
        "OpenCV(5.0.0) /io/opencv/modules/imgproc/src/imgwarp.cpp:1427: error: (-215:Assertion "
        "failed) dst.cols < SHRT_MAX in function 'remap'"
    )


def test_any_engine_exception_fails_the_upload_with_a_readable_message(
    client, staff, world, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(trichometry, "analyze", _engine_crash)
    client.force_login(staff[Role.NURSE])
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("imaging:visit", args=[world["visit"].pk]),
            {
                "tricho-target_site": world["site"].pk,
                "tricho-device": world["device"].pk,
                "tricho-image": upload(PHI_NAME, phantom_png(5)),
            },
        )
    assert response.status_code == 302  # no 500: the request only enqueues, the job records
    record = TrichoscopyImage.objects.latest("pk")
    assert record.status == "failed"
    assert record.error.startswith("the analysis could not process this image")
    assert f"image #{record.pk}" in record.error
    _assert_clinic_words(record.error)
    assert record.image.storage.exists(record.image.name)  # the file is kept
    log = caplog.text
    assert f"image={record.pk}" in log and "error" in log  # details for engineers ...
    assert "ada" not in log.lower() and "quill" not in log.lower()  # ... without the name
    page = client.get(reverse("imaging:trichoscopy", args=[record.pk])).content.decode()
    assert "Analysis failed: the analysis could not process this image" in page


def test_oversized_trichoscopy_is_refused_at_upload(client, staff, world):
    client.force_login(staff[Role.NURSE])
    before = TrichoscopyImage.objects.count()
    response = client.post(
        reverse("imaging:visit", args=[world["visit"].pk]),
        {
            "tricho-target_site": world["site"].pk,
            "tricho-device": world["device"].pk,
            "tricho-image": upload("big.png", _blank_png(6000, 6000)),
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "The image is larger than 16 megapixels (6000 × 6000 pixels)" in page
    assert "retake or upload a smaller image" in page
    assert TrichoscopyImage.objects.count() == before


def test_oversized_stored_image_fails_with_a_message_and_keeps_its_file(client, staff, world):
    record = _stored(world, staff, _blank_png(6000, 6000))
    assert analyse_trichoscopy(record.pk) == "failed"
    record.refresh_from_db()
    assert record.error == (
        "the image is larger than 16 megapixels (6000 × 6000 pixels) — "
        "retake or upload a smaller image."
    )
    assert record.image.storage.exists(record.image.name)
    client.force_login(staff[Role.PHYSICIAN])
    page = client.get(reverse("imaging:visit", args=[world["visit"].pk])).content.decode()
    assert "the image is larger than 16 megapixels" in page


def test_the_real_engine_failure_on_a_huge_field_is_recorded(staff, world, settings):
    """Without the pixel limit the engine itself raises (OpenCV remap); still no escape."""
    settings.ANAGEN_TRICHOSCOPY_MAX_PIXELS = settings.ANAGEN_MAX_IMAGE_PIXELS
    tile, _ = render_phantom(PhantomSpec(width=500, height=500, seed=1, um_per_px=UM_PER_PX))
    huge = np.tile(tile, (8, 12, 1))  # 6000 × 4000: already past the engine's limit
    ok, encoded = cv2.imencode(".png", huge[:, :, ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 1])
    assert ok
    record = _stored(world, staff, encoded.tobytes())
    assert analyse_trichoscopy(record.pk) == "failed"
    record.refresh_from_db()
    assert record.status == "failed" and "could not process this image" in record.error
    _assert_clinic_words(record.error)


def test_damaged_file_message_is_in_clinic_words(staff, world):
    record = _stored(world, staff, phantom_png(3)[:200])
    services.trichoscopy_analyse(record=record)
    record.refresh_from_db()
    assert record.error == "the stored file is damaged or truncated — upload the image again."


def test_batch_reanalysis_goes_on_past_failures_and_reports_them(staff, world, monkeypatch, capsys):
    first = world["trichoscopy"]
    second = services.trichoscopy_analyse(
        record=services.trichoscopy_upload(
            actor=staff[Role.NURSE],
            visit=world["visit"],
            target_site=world["site"],
            device=world["device"],
            image=upload("s.png", phantom_png(4)),
        )
    )
    TrichoscopyImage.objects.update(algorithm_version="old")
    real = trichometry.analyze
    calls = []

    def crash_first(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            _engine_crash()
        return real(*args, **kwargs)

    monkeypatch.setattr(trichometry, "analyze", crash_first)
    with pytest.raises(CommandError, match=rf"1 image\(s\) failed: ids {first.pk} "):
        call_command("reanalyse_trichoscopy")
    assert "1 analysed" in capsys.readouterr().out
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "failed" and second.status == "analysed"
    assert second.algorithm_version == trichometry.ALGORITHM_VERSION


def test_batch_reanalysis_exits_zero_when_all_succeed(world, capsys):
    TrichoscopyImage.objects.update(algorithm_version="old")
    call_command("reanalyse_trichoscopy")
    assert "1 analysed" in capsys.readouterr().out


# --- stuck in the queue -------------------------------------------------------------------


def _queued(staff, world) -> TrichoscopyImage:
    """Uploaded, with its job lost (the on-commit send never ran: no worker got it)."""
    return services.trichoscopy_upload(
        actor=staff[Role.NURSE],
        visit=world["visit"],
        target_site=world["site"],
        device=world["device"],
        image=upload("q.png", phantom_png(6)),
    )


def test_stuck_image_is_requeued_then_failed_after_the_attempt_limit(
    staff, world, django_capture_on_commit_callbacks
):
    assert settings.ANAGEN_ANALYSIS_STUCK_MINUTES == 15
    assert settings.ANAGEN_ANALYSIS_MAX_ATTEMPTS == 3
    record = _queued(staff, world)
    t0 = record.analysis_queued_at
    assert record.status == "queued" and record.analysis_attempts == 1
    assert retry_stuck_analyses(now=t0 + timedelta(minutes=14)) == {"requeued": [], "failed": []}
    now = t0
    for attempt in (2, 3):
        now += timedelta(minutes=16)
        with django_capture_on_commit_callbacks() as sent:
            assert retry_stuck_analyses(now=now) == {"requeued": [record.pk], "failed": []}
        assert len(sent) == 1  # the job is sent again
        record.refresh_from_db()
        assert record.status == "queued" and record.analysis_attempts == attempt
        assert record.analysis_queued_at == now
    with django_capture_on_commit_callbacks() as sent:
        outcome = retry_stuck_analyses(now=now + timedelta(minutes=16))
    assert outcome == {"requeued": [], "failed": [record.pk]} and not sent
    record.refresh_from_db()
    assert record.status == "failed"
    assert record.error.startswith("analysis did not finish after 3 attempts")
    _assert_clinic_words(record.error)


def test_requeued_job_runs_the_analysis(staff, world, django_capture_on_commit_callbacks):
    record = _queued(staff, world)
    with django_capture_on_commit_callbacks(execute=True):
        retry_stuck_analyses(now=record.analysis_queued_at + timedelta(minutes=20))
    record.refresh_from_db()
    assert record.status == "analysed" and record.analysis_attempts == 2


def test_stuck_sweep_leaves_finished_images_and_handles_old_rows(staff, world):
    analysed = world["trichoscopy"]
    legacy = _queued(staff, world)  # queued before the attempt fields existed
    long_ago = timezone.now() - timedelta(hours=2)
    TrichoscopyImage.objects.filter(pk=legacy.pk).update(
        analysis_queued_at=None, analysis_attempts=0, uploaded_at=long_ago
    )
    TrichoscopyImage.objects.filter(pk=analysed.pk).update(uploaded_at=long_ago)
    assert retry_stuck_analyses(now=timezone.now()) == {"requeued": [legacy.pk], "failed": []}
    analysed.refresh_from_db()
    assert analysed.status == "analysed" and analysed.analysis_attempts == 1


def test_a_late_duplicate_job_does_not_redo_a_finished_analysis(world, monkeypatch):
    monkeypatch.setattr(trichometry, "analyze", _engine_crash)
    assert analyse_trichoscopy(world["trichoscopy"].pk) == "analysed"


def test_stuck_sweep_is_on_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["trichoscopy-stuck-analyses"]
    assert entry["task"] == retry_stuck_analyses.name
    assert entry["schedule"] <= settings.ANAGEN_ANALYSIS_STUCK_MINUTES * 60


def test_the_upload_view_only_enqueues(
    client, staff, world, monkeypatch, django_capture_on_commit_callbacks
):
    """With a real broker (production) the request sends the job and returns; no analysis."""
    sent = []
    monkeypatch.setattr(analyse_trichoscopy, "delay", sent.append)
    monkeypatch.setattr(trichometry, "analyze", lambda *a, **k: pytest.fail("analysed in request"))
    client.force_login(staff[Role.NURSE])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("imaging:visit", args=[world["visit"].pk]),
            {
                "tricho-target_site": world["site"].pk,
                "tricho-device": world["device"].pk,
                "tricho-image": upload("e.png", phantom_png(8)),
            },
        )
    assert response.status_code == 302
    record = TrichoscopyImage.objects.latest("pk")
    assert record.status == "queued" and sent == [record.pk]


# --- a clinician retries a failed analysis ------------------------------------------------


@pytest.fixture
def failed(staff, world, monkeypatch):
    record = _stored(world, staff, phantom_png(9), name="r.png")
    with monkeypatch.context() as patch:
        patch.setattr(trichometry, "analyze", _engine_crash)
        services.trichoscopy_analyse(record=record)
    record.refresh_from_db()
    assert record.status == "failed"
    return record


def test_failed_image_shows_clinic_words_and_a_retry_button(client, staff, failed):
    client.force_login(staff[Role.NURSE])
    retry = reverse("imaging:trichoscopy_retry", args=[failed.pk])
    for page in ("imaging:trichoscopy", "imaging:visit"):
        pk = failed.pk if page == "imaging:trichoscopy" else failed.visit_id
        html = client.get(reverse(page, args=[pk])).content.decode()
        assert "Analysis failed: the analysis could not process this image" in html
        assert f'action="{retry}"' in html and "Retry analysis" in html
    client.force_login(staff[Role.AUDITOR])  # may read, may not retry: no button
    html = client.get(reverse("imaging:trichoscopy", args=[failed.pk])).content.decode()
    assert "Analysis failed:" in html and "Retry analysis" not in html


def test_retry_runs_the_analysis_again(client, staff, failed, django_capture_on_commit_callbacks):
    client.force_login(staff[Role.NURSE])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imaging:trichoscopy_retry", args=[failed.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("imaging:trichoscopy", args=[failed.pk])
    failed.refresh_from_db()
    assert failed.status == "analysed" and failed.error == "" and failed.analysis_attempts == 1


def test_retry_is_only_for_failed_images(client, staff, world):
    client.force_login(staff[Role.PHYSICIAN])
    record = world["trichoscopy"]
    response = client.post(reverse("imaging:trichoscopy_retry", args=[record.pk]), follow=True)
    assert "Only an image whose analysis failed can be analysed again" in response.content.decode()
    record.refresh_from_db()
    assert record.status == "analysed" and record.analysis_attempts == 1


def test_retry_needs_imaging_capture_and_site_access(client, staff, failed, other_site):
    from django.core.exceptions import PermissionDenied

    from tests.clinic.conftest import make_user

    url = reverse("imaging:trichoscopy_retry", args=[failed.pk])
    client.force_login(staff[Role.AUDITOR])
    assert client.post(url).status_code == 403
    client.force_login(staff[Role.NURSE])
    assert client.get(url).status_code in (403, 405)
    elsewhere = make_user(Role.NURSE, other_site)
    client.force_login(elsewhere)
    assert client.post(url).status_code == 404
    for actor in (staff[Role.AUDITOR], staff[Role.COORDINATOR], elsewhere):
        with pytest.raises(PermissionDenied):
            services.trichoscopy_retry(actor=actor, record=failed)
    failed.refresh_from_db()
    assert failed.status == "failed"
