"""Writes for imaging: visits, photos, trichoscopy uploads, analysis and correction."""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from anagen import trichometry
from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import Perm, require, require_site_access
from anagen.clinic.core.uploads import strict_image_decoding
from anagen.clinic.patients.models import Patient

from .models import Device, GlobalPhoto, ImagingVisit, TargetSite, TrichoscopyImage

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
    *, actor: User, patient: Patient, taken_on: date, notes: str = "", scheduled_visit=None
) -> ImagingVisit:
    _require_imager(actor, patient)
    if taken_on > timezone.localdate():
        raise ValidationError({"taken_on": "The imaging date cannot be in the future."})
    if scheduled_visit is not None and scheduled_visit.patient_id != patient.pk:
        raise ValidationError({"scheduled_visit": "That visit belongs to another patient."})
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
def photo_upload(*, actor: User, visit: ImagingVisit, view: str, image) -> GlobalPhoto:
    _require_imager(actor, visit.patient)
    if visit.photos.filter(view=view).exists():
        raise ValidationError({"view": "This view was already photographed at this visit."})
    photo = GlobalPhoto(visit=visit, view=view, image=image, uploaded_by=actor)
    photo.full_clean()
    photo.save()
    return photo


@transaction.atomic
def trichoscopy_upload(
    *, actor: User, visit: ImagingVisit, target_site: TargetSite, device: Device, image
) -> TrichoscopyImage:
    """Store the image and queue its analysis (a Celery job; eager in the embedded default)."""
    _require_imager(actor, visit.patient)
    if target_site.patient_id != visit.patient_id:
        raise ValidationError({"target_site": "That target site belongs to another patient."})
    if device.um_per_px is None:
        raise ValidationError(
            {
                "device": f"{device} has no calibration (µm per pixel); calibrate it in the admin first."
            }
        )
    record = TrichoscopyImage(
        visit=visit, target_site=target_site, device=device, image=image, uploaded_by=actor
    )
    record.full_clean()
    record.save()
    from .tasks import analyse_trichoscopy

    transaction.on_commit(lambda: analyse_trichoscopy.delay(record.pk))
    return record


@contextmanager
def _local_copy(field_file):
    """A filesystem path for a stored file, copying it out of remote storage if needed."""
    try:
        path = field_file.path
    except NotImplementedError:
        path = None
    if path is not None:
        yield path
        return
    suffix = Path(field_file.name).suffix
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp, field_file.open("rb") as source:
        shutil.copyfileobj(source, tmp)
        tmp.flush()
        yield tmp.name


def trichoscopy_analyse(*, record: TrichoscopyImage) -> TrichoscopyImage:
    """Run the trichometry engine on one stored image; failures are recorded, never raised."""
    try:
        if record.device.um_per_px is None:
            raise trichometry.ImageError(f"{record.device}: missing calibration")
        with _local_copy(record.image) as path, strict_image_decoding():
            rgb = trichometry.load_image(path)
        result = trichometry.analyze(rgb, um_per_px=float(record.device.um_per_px))
    except (trichometry.ImageError, ValueError, OSError) as exc:
        record.status = TrichoscopyImage.Status.FAILED
        # The engine names the file by its path; show staff the stored name only.
        record.error = str(exc).split(": ", 1)[-1][:500]
        record.save(update_fields=["status", "error"])
        logger.warning("trichoscopy analysis failed image=%s", record.pk)
        return record
    overlay = trichometry.render_overlay(rgb, result)
    buffer = io.BytesIO()
    Image.fromarray(overlay).save(buffer, "PNG", optimize=True)
    data = result.to_dict()
    with transaction.atomic():
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
        record.analysed_at = timezone.now()
        record.save()
    return record


@transaction.atomic
def trichoscopy_correct(
    *,
    actor: User,
    record: TrichoscopyImage,
    removed_hair_ids: list[int],
    added_terminal: int,
    added_vellus: int,
    note: str,
) -> TrichoscopyImage:
    """A clinician's correction: false hairs removed, missed hairs added; automatic values kept."""
    _require_imager(actor, record.visit.patient)
    if record.status != TrichoscopyImage.Status.ANALYSED:
        raise ValidationError("Only an analysed image can be corrected.")
    known = {h["id"] for h in record.result.get("hairs", []) if h["counted"]}
    unknown = sorted(set(removed_hair_ids) - known)
    if unknown:
        raise ValidationError(
            {"removed_hair_ids": f"No counted hair has id {', '.join(map(str, unknown))}."}
        )
    if added_terminal < 0 or added_vellus < 0 or added_terminal + added_vellus > 2000:
        raise ValidationError({"added_terminal": "Added hairs must be between 0 and 2000."})
    if not note.strip():
        raise ValidationError({"note": "Say briefly what was corrected."})
    record.removed_hair_ids = sorted(set(removed_hair_ids))
    record.added_terminal = added_terminal
    record.added_vellus = added_vellus
    record.correction_note = note.strip()
    record.corrected_by = actor
    record.corrected_at = timezone.now()
    record.save()
    return record


def reanalyse_outdated(*, every: bool = False, progress=None) -> dict[str, int]:
    """Re-run the engine on images analysed by another algorithm version (or all of them).

    Each image is independent: a failure is recorded on that image and the batch goes on.
    """
    images = TrichoscopyImage.objects.select_related("device").order_by("pk")
    if not every:
        images = images.exclude(algorithm_version=trichometry.ALGORITHM_VERSION, status="analysed")
    counts = {"analysed": 0, "failed": 0}
    for record in images.iterator():
        record = trichoscopy_analyse(record=record)
        counts[record.status] = counts.get(record.status, 0) + 1
        if progress is not None:
            progress(1)
    return counts
