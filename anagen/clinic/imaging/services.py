"""Writes for imaging: visits, photos, trichoscopy uploads, analysis and correction."""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from PIL import Image

from anagen import trichometry
from anagen.clinic.accounts.access import require_site_access
from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import Perm, require
from anagen.clinic.common import clock
from anagen.clinic.common.uploads import strict_image_decoding
from anagen.clinic.patients.models import Patient
from anagen.trichometry.change_overlay import render_change_overlay

from . import dispatch, selectors
from .error_codes import ImagingErrorCode as Code
from .error_codes import refusal
from .models import (
    Device,
    GlobalPhoto,
    ImagingVisit,
    MatchedChange,
    TargetSite,
    TrichoscopyImage,
)

if TYPE_CHECKING:
    from anagen.clinic.treatment.models import ScheduledVisit

logger = logging.getLogger(__name__)


def _require_imager(actor: User, patient: Patient) -> None:
    require(actor, Perm.IMAGING_CAPTURE)
    require_site_access(user=actor, site_id=patient.site_id)


@transaction.atomic
def target_site_create(
    *, actor: User, patient: Patient, zone: str, description: str, landmark_note: str = ""
) -> TargetSite:
    _require_imager(actor, patient)
    site = TargetSite(
        patient=patient, zone=zone, description=description, landmark_note=landmark_note
    )
    site.full_clean()
    site.save()
    return site


@transaction.atomic
def imaging_visit_create(
    *,
    actor: User,
    patient: Patient,
    taken_on: date,
    notes: str = "",
    scheduled_visit: ScheduledVisit | None = None,
) -> ImagingVisit:
    _require_imager(actor, patient)
    if taken_on > clock.localdate():
        raise refusal("The imaging date cannot be in the future.", Code.FUTURE_DATE, "taken_on")
    if scheduled_visit is not None and scheduled_visit.patient_id != patient.pk:
        raise refusal(
            "That visit belongs to another patient.", Code.WRONG_PATIENT, "scheduled_visit"
        )
    visit = ImagingVisit.objects.create(
        patient=patient,
        taken_on=taken_on,
        notes=notes,
        created_by=actor,
        scheduled_visit=scheduled_visit,
    )
    if scheduled_visit is not None and not scheduled_visit.completed:
        scheduled_visit.completed = True
        scheduled_visit.save(update_fields=["completed"])
    return visit


@transaction.atomic
def photo_upload(
    *, actor: User, visit: ImagingVisit, view: str, image: UploadedFile[bytes]
) -> GlobalPhoto:
    _require_imager(actor, visit.patient)
    if visit.photos.filter(view=view).exists():
        raise refusal("This view was already photographed at this visit.", Code.VIEW_TAKEN, "view")
    photo = GlobalPhoto(visit=visit, view=view, image=image, uploaded_by=actor)
    photo.full_clean()
    photo.save()
    return photo


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.0f} megapixels"


def _too_large_message(width: int, height: int) -> str:
    limit = _megapixels(settings.ANAGEN_TRICHOSCOPY_MAX_PIXELS)
    return (
        f"the image is larger than {limit} ({width} × {height} pixels) — "
        "retake or upload a smaller image."
    )


def _pixel_size(source: str | UploadedFile[bytes]) -> tuple[int, int] | None:
    """Width and height from the image header (no decoding); None when unreadable."""
    position = None if isinstance(source, str) else source.tell()
    try:
        with strict_image_decoding(), Image.open(source) as image:
            return image.size
    except Exception:  # unreadable headers are reported by the upload checks
        return None
    finally:
        if position is not None and not isinstance(source, str):
            source.seek(position)


@transaction.atomic
def trichoscopy_upload(
    *,
    actor: User,
    visit: ImagingVisit,
    target_site: TargetSite,
    device: Device,
    image: UploadedFile[bytes],
    regrowth_of: TrichoscopyImage | None = None,
) -> TrichoscopyImage:
    """Store the image and queue its analysis (a Celery job; eager in the embedded default).

    ``regrowth_of``: this image is the day-2/3 re-image of that day-0 image (phototrichogram);
    the analysis job then also measures which hairs grew between the two.
    """
    _require_imager(actor, visit.patient)
    if target_site.patient_id != visit.patient_id:
        raise refusal(
            "That target site belongs to another patient.", Code.WRONG_PATIENT, "target_site"
        )
    if regrowth_of is not None:
        _check_regrowth_pair(day0=regrowth_of, visit=visit, target_site=target_site, device=device)
    if device.um_per_px is None:
        raise refusal(
            f"{device} has no calibration (µm per pixel); calibrate it in the admin first.",
            Code.NOT_CALIBRATED,
            "device",
        )
    size = _pixel_size(image)
    if size is not None and size[0] * size[1] > settings.ANAGEN_TRICHOSCOPY_MAX_PIXELS:
        message = _too_large_message(*size)
        raise refusal(message[0].upper() + message[1:], Code.IMAGE_TOO_LARGE, "image")
    record = TrichoscopyImage(
        visit=visit,
        target_site=target_site,
        device=device,
        image=image,
        regrowth_of=regrowth_of,
        uploaded_by=actor,
        analysis_attempts=1,
        analysis_queued_at=clock.now(),
    )
    record.full_clean()
    record.save()
    _send_analysis(record.pk)
    return record


#: Days between a day-0 image and its re-image: anagen hairs grow ~0.3 mm a day, so 2–3 days
#: separate growing from resting hairs; 1 and 4 days are still measurable.
REGROWTH_MIN_DAYS, REGROWTH_MAX_DAYS = selectors.REGROWTH_DAYS


def _check_regrowth_pair(
    *, day0: TrichoscopyImage, visit: ImagingVisit, target_site: TargetSite, device: Device
) -> None:
    """The phototrichogram rules: same patient, same marked site, same device, 1–4 days later."""
    day0 = TrichoscopyImage.objects.select_for_update().select_related("visit").get(pk=day0.pk)
    if day0.visit.patient_id != visit.patient_id:
        raise refusal(
            "The day-0 image belongs to another patient.",
            Code.REGROWTH_OTHER_PATIENT,
            "regrowth_of",
        )
    if day0.regrowth_of_id is not None:
        raise refusal(
            "That image is itself a re-image; choose the day-0 image.",
            Code.REGROWTH_OF_REGROWTH,
            "regrowth_of",
        )
    if day0.target_site_id != target_site.pk:
        raise refusal(
            "A re-image must be of the same target site as its day-0 image.",
            Code.REGROWTH_OTHER_SITE,
            "target_site",
        )
    if day0.device_id != device.pk:
        raise refusal(
            "Re-image with the same device as the day-0 image (same calibration).",
            Code.REGROWTH_OTHER_DEVICE,
            "device",
        )
    days = (visit.taken_on - day0.visit.taken_on).days
    if not REGROWTH_MIN_DAYS <= days <= REGROWTH_MAX_DAYS:
        raise refusal(
            f"A re-image is taken {REGROWTH_MIN_DAYS}–{REGROWTH_MAX_DAYS} days after its day-0 "
            f"image; this visit is {days} days after it.",
            Code.REGROWTH_INTERVAL,
            "regrowth_of",
        )
    if day0.regrowths.exclude(status=TrichoscopyImage.Status.FAILED).exists():
        raise refusal(
            "That day-0 image already has a re-image.", Code.REGROWTH_TAKEN, "regrowth_of"
        )


def _send_analysis(pk: int) -> None:
    """Send the analysis job once the transaction commits (the web request only enqueues)."""
    dispatch.send_on_commit(dispatch.ANALYSE_TRICHOSCOPY, pk)


def _enqueue_analysis(record: TrichoscopyImage, *, now: datetime | None = None) -> None:
    """Mark the image queued (one more attempt) and send the job once the transaction commits."""
    record.status = TrichoscopyImage.Status.QUEUED
    record.error = ""
    record.analysis_attempts += 1
    record.analysis_queued_at = now or clock.now()
    record.save(update_fields=["status", "error", "analysis_attempts", "analysis_queued_at"])
    _send_analysis(record.pk)


@transaction.atomic
def trichoscopy_retry(*, actor: User, record: TrichoscopyImage) -> TrichoscopyImage:
    """A clinician asks for a failed analysis to run again (a fresh set of attempts)."""
    _require_imager(actor, record.visit.patient)
    record = TrichoscopyImage.objects.select_for_update().get(pk=record.pk)
    if record.status != TrichoscopyImage.Status.FAILED:
        raise refusal(
            "Only an image whose analysis failed can be analysed again.", Code.WRONG_STATUS
        )
    record.analysis_attempts = 0
    _enqueue_analysis(record)
    return record


@contextmanager
def _local_copy(field_file: FieldFile) -> Iterator[str]:
    """A filesystem path for a stored file, copying it out of remote storage if needed."""
    try:
        path = field_file.path
    except NotImplementedError:
        path = None
    if path is not None:
        yield path
        return
    suffix = Path(field_file.name or "").suffix  # a stored file always has a name
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp, field_file.open("rb") as source:
        shutil.copyfileobj(source, tmp)
        tmp.flush()
        yield tmp.name


class _ImageTooLarge(Exception):
    def __init__(self, width: int, height: int) -> None:
        super().__init__(f"{width}x{height}")
        self.size = (width, height)


def _clinic_message(record: TrichoscopyImage, exc: Exception) -> str:
    """What went wrong in clinic words: no exception names, no file paths."""
    if isinstance(exc, _ImageTooLarge):
        return _too_large_message(*exc.size)
    text = str(exc).lower() if isinstance(exc, trichometry.ImageError) else ""
    if "too large" in text:
        return (
            f"the image is larger than the analysis accepts ({_megapixels(settings.ANAGEN_TRICHOSCOPY_MAX_PIXELS)}) — "
            "retake or upload a smaller image."
        )
    if "truncated" in text or "corrupt" in text:
        return "the stored file is damaged or truncated — upload the image again."
    if "not an image" in text or "cannot decode" in text or "no pixels" in text:
        return "the stored file cannot be read as an image — upload it again as PNG, JPEG or TIFF."
    if "calibration" in text:
        return (
            "the device has no valid calibration (µm per pixel) — calibrate it in the admin, "
            "then retry."
        )
    if "no such file" in text or "regular file" in text or isinstance(exc, FileNotFoundError):
        return "the stored file is missing — upload the image again."
    return (
        "the analysis could not process this image — retry; if it fails again, retake the "
        f"image or report image #{record.pk} to support."
    )


def _log_failure(record: TrichoscopyImage, exc: Exception, path: str | None) -> None:
    """Log for engineers with the image id; file names (which may carry a name) are masked."""
    if isinstance(exc, (trichometry.ImageError, _ImageTooLarge)):
        detail = str(exc)  # expected: one line, no traceback needed
        level = logging.WARNING
    else:
        detail = "".join(traceback.format_exception(exc))
        level = logging.ERROR
    for secret in sorted(
        {path or "", record.image.name or "", Path(record.image.name or "").name}, key=len
    )[::-1]:
        if secret:
            detail = detail.replace(secret, "<image file>")
    logger.log(
        level, "trichoscopy analysis failed image=%s %s: %s", record.pk, type(exc).__name__, detail
    )


def _analysis_failed(
    record: TrichoscopyImage, message: str, *, save_fields: tuple[str, ...] = ()
) -> TrichoscopyImage:
    record.status = TrichoscopyImage.Status.FAILED
    record.error = message[:500]
    record.save(update_fields=["status", "error", *save_fields])
    return record


def _still_queued(record: TrichoscopyImage) -> TrichoscopyImage | None:
    """Lock the image's row (inside a transaction) and return it if it is still queued.

    A job redelivered after its worker died, or run twice by the broker, finds the image
    already analysed or failed by the other copy and writes nothing: one result per image.
    """
    return (
        TrichoscopyImage.objects.select_for_update()
        .filter(pk=record.pk, status=TrichoscopyImage.Status.QUEUED)
        .first()
    )


def trichoscopy_analyse(
    *, record: TrichoscopyImage, only_if_queued: bool = False
) -> TrichoscopyImage:
    """Run the trichometry engine on one stored image; any failure is recorded, never raised.

    The stored file is kept whatever happens, so a failed image can be analysed again.
    ``only_if_queued`` (the queued job) writes the result, or the failure, only while the image
    is still queued, under a row lock: a second delivery of the same job is a no-op.
    """
    path = None
    try:
        if record.device.um_per_px is None:
            raise trichometry.ImageError(f"{record.device}: missing calibration")
        with _local_copy(record.image) as path, strict_image_decoding():
            size = _pixel_size(path)
            if size is not None and size[0] * size[1] > settings.ANAGEN_TRICHOSCOPY_MAX_PIXELS:
                raise _ImageTooLarge(*size)
            rgb = trichometry.load_image(path)
        result = trichometry.analyze(rgb, um_per_px=float(record.device.um_per_px))
        overlay = trichometry.render_overlay(rgb, result)
        buffer = io.BytesIO()
        Image.fromarray(overlay).save(buffer, "PNG", optimize=True)
        data = result.to_dict()
    except Exception as exc:  # whatever the engine raises, nothing may stay queued
        _log_failure(record, exc, path)
        with transaction.atomic():
            if only_if_queued and _still_queued(record) is None:
                record.refresh_from_db()
                return record
            return _analysis_failed(record, _clinic_message(record, exc))
    with transaction.atomic():
        if only_if_queued and _still_queued(record) is None:
            record.refresh_from_db()
            return record
        record.overlay.save(f"overlay-{record.pk}.png", ContentFile(buffer.getvalue()), save=False)
        record.status = TrichoscopyImage.Status.ANALYSED
        record.error = ""
        record.algorithm_version = result.algorithm_version
        record.um_per_px = record.device.um_per_px
        record.result = data
        for name in (
            "hair_count",
            "area_cm2",
            "density_per_cm2",
            "terminal_count",
            "vellus_count",
            "mean_diameter_um",
            "cumulative_thickness_mm_per_cm2",
            "quality_ok",
        ):
            setattr(record, name, data[name])
        record.analysed_at = clock.now()
        if record.regrowth_of_id is not None:
            _measure_growth(record)
        record.save()
        if record.regrowth_of_id is None:
            dispatch.send_on_commit(dispatch.MATCH_TRICHOSCOPY, record.pk)
    return record


def match_references(record: TrichoscopyImage) -> dict[str, TrichoscopyImage]:
    """The earlier analysed images of ``record``'s target site it is matched to.

    ``baseline``: the site's first analysed image (by visit date); ``previous``: the latest
    one before ``record``'s visit, when that is not the baseline. Phototrichogram re-images
    are no visits of their own and are never references.
    """
    earlier = list(
        TrichoscopyImage.objects.filter(
            target_site_id=record.target_site_id,
            status=TrichoscopyImage.Status.ANALYSED,
            regrowth_of__isnull=True,
            visit__taken_on__lt=record.visit.taken_on,
        ).order_by("visit__taken_on", "pk")
    )
    if not earlier:
        return {}
    refs = {MatchedChange.Reference.BASELINE.value: earlier[0]}
    if earlier[-1].pk != earlier[0].pk:
        refs[MatchedChange.Reference.PREVIOUS.value] = earlier[-1]
    return refs


_MATCH_FIELDS = (
    "persisting",
    "lost",
    "new",
    "baseline_count",
    "followup_count",
    "count_change",
    "common_area_cm2",
    "density_change_per_cm2",
)


def _match_message(exc: Exception) -> str:
    """Why a pair could not be matched, in clinic words (no file names)."""
    if isinstance(exc, trichometry.ChangeError):
        if "overlap" in str(exc):
            return (
                "the two images show too little of the same skin — re-image the tattooed "
                "target site centred as at the earlier visit."
            )
        return (
            "the two images could not be lined up — check both show the same tattooed target "
            "site, clipped, in focus."
        )
    if isinstance(exc, _CalibrationDiffers):
        return "the two images were taken at different calibrations and cannot be matched."
    return "the hairs of the two images could not be matched — the counts of each image stand."


class _CalibrationDiffers(Exception):
    pass


def _stored_analysis(record: TrichoscopyImage) -> trichometry.TrichometryResult | None:
    """The image's stored automatic analysis when this engine made it (None: analyse again)."""
    data = record.result
    if not data or data.get("algorithm_version") != trichometry.ALGORITHM_VERSION:
        return None
    try:
        return trichometry.TrichometryResult.from_dict(data)
    except (KeyError, TypeError, ValueError):
        return None


def trichoscopy_match(*, record: TrichoscopyImage) -> list[MatchedChange]:
    """Match an analysed follow-up image hair to hair with its site's earlier images.

    A job (``tasks.match_trichoscopy``) runs this after the follow-up's analysis; a system
    step, not a member of staff's. One ``MatchedChange`` per reference (baseline, previous
    visit) is written or replaced; a pair that cannot be matched is kept with its reason in
    clinic words, and the images' own counts stand either way.
    """
    out: list[MatchedChange] = []
    for kind, reference in match_references(record).items():
        values: dict[str, object] = {"reference": reference, "error": ""}
        overlay: bytes | None = None
        try:
            if record.um_per_px is None or reference.um_per_px != record.um_per_px:
                raise _CalibrationDiffers()
            with (
                _local_copy(reference.image) as first,
                _local_copy(record.image) as second,
                strict_image_decoding(),
            ):
                img_b = trichometry.load_image(first)
                img_f = trichometry.load_image(second)
            res = trichometry.matched_change(
                img_b,
                img_f,
                um_per_px=float(record.um_per_px),
                names=("baseline", "follow-up"),
                analyses=(_stored_analysis(reference), _stored_analysis(record)),
            )
            picture = render_change_overlay(img_b, img_f, res, both=False)
            buffer = io.BytesIO()
            Image.fromarray(picture).save(buffer, "PNG", optimize=True)
            overlay = buffer.getvalue()
        except Exception as exc:  # the pair cannot be matched; each image's count stands
            _log_failure(record, exc, None)
            values.update(
                status=MatchedChange.Status.FAILED,
                error=_match_message(exc),
                result=None,
                quality_ok=None,
                algorithm_version="",
                **dict.fromkeys(
                    (*_MATCH_FIELDS, "dx_px", "dy_px", "rotation_deg", "residual_px"), None
                ),
                overlap_fraction=None,
            )
        else:
            data = res.to_dict(include_hairs=True)
            reg = data["registration"]
            values.update(
                status=MatchedChange.Status.MATCHED,
                result=data,
                quality_ok=res.quality_ok,
                algorithm_version=res.algorithm_version,
                dx_px=reg["dx_px"],
                dy_px=reg["dy_px"],
                rotation_deg=reg["rotation_deg"],
                residual_px=reg["residual_px"],
                overlap_fraction=res.overlap_fraction,
                **{name: data[name] for name in _MATCH_FIELDS},
            )
        with transaction.atomic():
            match, _ = MatchedChange.objects.update_or_create(
                followup=record, reference_kind=kind, defaults=values
            )
            if overlay is not None:
                match.overlay.save(f"matched-{record.pk}-{kind}.png", ContentFile(overlay))
            elif match.overlay:
                match.overlay.delete(save=True)
        out.append(match)
    return out


def _measure_growth(record: TrichoscopyImage) -> None:
    """Anagen/telogen of a day-0 / re-image pair (set on ``record``, the re-image; not saved).

    A failure is kept as ``growth_error`` in clinic words; the re-image's own count stands.
    """
    assert record.regrowth_of_id is not None, "only a re-image is measured as a pair"
    day0 = TrichoscopyImage.objects.select_related("visit").get(pk=record.regrowth_of_id)
    days = (record.visit.taken_on - day0.visit.taken_on).days
    try:
        assert record.um_per_px is not None, "set by the analysis"
        with (
            _local_copy(day0.image) as first,
            _local_copy(record.image) as second,
            strict_image_decoding(),
        ):
            growth = trichometry.anagen_telogen(
                first, second, days=days, um_per_px=float(record.um_per_px)
            )
    except Exception as exc:  # the pair cannot be measured; the single image still is
        _log_failure(record, exc, None)
        record.anagen_fraction = record.growing_count = record.non_growing_count = None
        record.growth_result = None
        record.growth_error = (
            "the growth of the hairs between the day-0 image and this re-image could not be "
            "measured — check both images show the same clipped site, or retake the re-image."
        )
        return
    if growth.anagen_count + growth.telogen_count == 0:
        record.anagen_fraction = None
        record.growth_error = "no hair of the day-0 image could be followed on the re-image."
    else:
        record.anagen_fraction = growth.anagen_fraction
        record.growth_error = ""
    record.growing_count = growth.anagen_count
    record.non_growing_count = growth.telogen_count
    data = growth.to_dict()
    data.pop("hairs", None)
    record.growth_result = data


#: At most this many missed hairs may be added to one image (placed or not).
MAX_ADDED_HAIRS = 2000
ADDED_HAIR_KINDS = ("terminal", "vellus")


def _ids_text(ids: list[int]) -> str:
    shown = ", ".join(map(str, ids[:10]))
    return shown + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")


def _checked_removed_ids(record: TrichoscopyImage, removed_hair_ids: object) -> list[int]:
    assert record.result is not None, "an analysed image has its result"
    hairs = record.result.get("hairs", [])
    if not isinstance(removed_hair_ids, list | tuple) or any(
        type(i) is not int for i in removed_hair_ids
    ):
        raise refusal("Hair ids must be whole numbers.", Code.UNKNOWN_HAIR, "removed_hair_ids")
    ids = set(removed_hair_ids)
    if len(ids) > len(hairs):
        raise refusal(
            f"More hairs to remove ({len(ids)}) than were detected ({len(hairs)}).",
            Code.UNKNOWN_HAIR,
            "removed_hair_ids",
        )
    unknown = sorted(ids - {h["id"] for h in hairs})
    if unknown:
        raise refusal(
            f"No counted hair has id {_ids_text(unknown)}.", Code.UNKNOWN_HAIR, "removed_hair_ids"
        )
    uncounted = sorted(ids - {h["id"] for h in hairs if h["counted"]})
    if uncounted:
        raise refusal(
            f"Hair {_ids_text(uncounted)} lies outside the counting frame and is not counted: "
            "there is nothing to remove.",
            Code.UNCOUNTED_HAIR,
            "removed_hair_ids",
        )
    return sorted(ids)


def _checked_added_hairs(record: TrichoscopyImage, added_hairs: object) -> list[dict[str, object]]:
    """Each placed hair as ``{"x", "y", "kind"}``, inside the image, in image pixels."""
    assert record.result is not None, "an analysed image has its result"
    if not isinstance(added_hairs, list | tuple):
        raise refusal("Added hairs must be a list.", Code.ADDED_HAIRS, "added_hairs")
    if len(added_hairs) > MAX_ADDED_HAIRS:
        raise refusal(
            f"At most {MAX_ADDED_HAIRS} missed hairs can be added.", Code.ADDED_HAIRS, "added_hairs"
        )
    height, width = record.result["image_shape"][:2]
    checked = []
    for number, hair in enumerate(added_hairs, start=1):
        if not isinstance(hair, dict) or set(hair) != {"x", "y", "kind"}:
            raise refusal(
                f"Added hair {number} must give its x, y and kind.",
                Code.ADDED_HAIR_POSITION,
                "added_hairs",
            )
        if hair["kind"] not in ADDED_HAIR_KINDS:
            raise refusal(
                f"Added hair {number} must be terminal or vellus.",
                Code.ADDED_HAIR_KIND,
                "added_hairs",
            )
        x, y = hair["x"], hair["y"]
        if not all(type(v) in (int, float) for v in (x, y)) or not (
            0 <= x < width and 0 <= y < height  # NaN fails every comparison
        ):
            raise refusal(
                f"Added hair {number} is not inside the {width} × {height} px image.",
                Code.ADDED_HAIR_POSITION,
                "added_hairs",
            )
        checked.append({"x": round(float(x), 1), "y": round(float(y), 1), "kind": hair["kind"]})
    return checked


@transaction.atomic
def trichoscopy_correct(
    *,
    actor: User,
    record: TrichoscopyImage,
    removed_hair_ids: list[int],
    added_terminal: int = 0,
    added_vellus: int = 0,
    added_hairs: list[dict[str, object]] | None = None,
    note: str,
) -> TrichoscopyImage:
    """A clinician's correction: false hairs removed, missed hairs added; automatic values kept.

    ``added_hairs`` are missed hairs placed on the image (``{"x", "y", "kind"}`` in image
    pixels); ``added_terminal`` and ``added_vellus`` are missed hairs given as a number only, on
    top of the placed ones. The record keeps the placed hairs and the totals by kind.
    """
    _require_imager(actor, record.visit.patient)
    if record.status != TrichoscopyImage.Status.ANALYSED:
        raise refusal("Only an analysed image can be corrected.", Code.WRONG_STATUS)
    removed = _checked_removed_ids(record, removed_hair_ids)
    placed = _checked_added_hairs(record, added_hairs or [])
    numbers = (added_terminal, added_vellus)
    if any(type(n) is not int or n < 0 for n in numbers) or (
        sum(numbers) + len(placed) > MAX_ADDED_HAIRS
    ):
        raise refusal(
            f"Added hairs must be between 0 and {MAX_ADDED_HAIRS} in all.",
            Code.ADDED_HAIRS,
            "added_terminal",
        )
    if not note.strip():
        raise refusal("Say briefly what was corrected.", Code.NOTE_REQUIRED, "note")
    kinds = [hair["kind"] for hair in placed]
    record.removed_hair_ids = removed
    record.added_hairs = placed
    record.added_terminal = kinds.count("terminal") + added_terminal
    record.added_vellus = kinds.count("vellus") + added_vellus
    record.correction_note = note.strip()
    record.corrected_by = actor
    record.corrected_at = clock.now()
    record.save()
    return record


@dataclass
class ReanalysisReport:
    analysed: int = 0
    failed_ids: list[int] = field(default_factory=list)


def reanalyse_outdated(
    *, every: bool = False, progress: Callable[[int], object] | None = None
) -> ReanalysisReport:
    """Re-run the engine on images analysed by another algorithm version (or all of them).

    Each image is independent: a failure is recorded on that image and the batch goes on.
    """
    images = TrichoscopyImage.objects.select_related("device").order_by("pk")
    if not every:
        images = images.exclude(algorithm_version=trichometry.ALGORITHM_VERSION, status="analysed")
    report = ReanalysisReport()
    for record in images.iterator():
        record = trichoscopy_analyse(record=record)
        if record.status == TrichoscopyImage.Status.ANALYSED:
            report.analysed += 1
        else:
            report.failed_ids.append(record.pk)
        if progress is not None:
            progress(1)
    return report


def analyses_retry_stuck(*, now: datetime | None = None) -> dict[str, list[int]]:
    """Re-queue images queued for longer than ANAGEN_ANALYSIS_STUCK_MINUTES (a lost job or a
    dead worker); after ANAGEN_ANALYSIS_MAX_ATTEMPTS enqueues the image fails with a message."""
    now = now or clock.now()
    cutoff = now - timedelta(minutes=settings.ANAGEN_ANALYSIS_STUCK_MINUTES)
    limit = settings.ANAGEN_ANALYSIS_MAX_ATTEMPTS
    stuck = TrichoscopyImage.objects.filter(status=TrichoscopyImage.Status.QUEUED).filter(
        Q(analysis_queued_at__lt=cutoff)
        | Q(analysis_queued_at__isnull=True, uploaded_at__lt=cutoff)
    )
    outcome: dict[str, list[int]] = {"requeued": [], "failed": []}
    for pk in stuck.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            # Locked and re-checked: the job may have finished since the query above.
            record = (
                TrichoscopyImage.objects.select_for_update()
                .filter(pk=pk, status=TrichoscopyImage.Status.QUEUED)
                .first()
            )
            if record is None:
                continue
            if record.analysis_attempts >= limit:
                _analysis_failed(
                    record,
                    f"analysis did not finish after {record.analysis_attempts} attempts — "
                    "retry the analysis; if it keeps failing, report "
                    f"image #{record.pk} to support.",
                )
                logger.warning("trichoscopy analysis gave up image=%s", record.pk)
                outcome["failed"].append(record.pk)
            else:
                _enqueue_analysis(record, now=now)
                logger.info("trichoscopy analysis re-queued image=%s", record.pk)
                outcome["requeued"].append(record.pk)
    return outcome
