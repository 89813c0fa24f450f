"""Builders for imaging tests: a calibrated device, a target site and analysed phantoms."""

from __future__ import annotations

import functools
import io
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from anagen.clinic.imaging import services
from anagen.phantoms.render import PhantomSpec, render_phantom

from .factories import DeviceFactory, ImagingVisitFactory, TargetSiteFactory

UM_PER_PX = 6.0


@functools.cache  # deterministic for its arguments; bytes cannot be changed by a test
def phantom_png(seed: int = 1, width: int = 480, height: int = 360, **spec) -> bytes:
    image, _ = render_phantom(
        PhantomSpec(width=width, height=height, seed=seed, um_per_px=UM_PER_PX, **spec)
    )
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG")
    return buffer.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/png")


def imaging_world(clinician, patient, *, taken_on: date | None = None, seed: int = 1):
    """A device, a target site and a visit (plain rows) with a photo and an analysed trichoscopy.

    The uploads and the analysis go through the imaging services (validation, the engine).
    """
    device = DeviceFactory(um_per_px=UM_PER_PX)
    site = TargetSiteFactory(patient=patient)
    visit = ImagingVisitFactory(
        patient=patient, created_by=clinician, taken_on=taken_on or date.today()
    )
    photo = services.photo_upload(
        actor=clinician, visit=visit, view="top", image=upload("top.png", phantom_png(seed))
    )
    record = services.trichoscopy_upload(
        actor=clinician,
        visit=visit,
        target_site=site,
        device=device,
        image=upload("t.png", phantom_png(seed)),
    )
    record = services.trichoscopy_analyse(record=record)
    return {"device": device, "site": site, "visit": visit, "photo": photo, "trichoscopy": record}


def plain_png(width=64, height=64) -> bytes:
    """A small plain PNG (skin-coloured), for uploads that need any valid image."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 170, 150)).save(buffer, "PNG")
    return buffer.getvalue()


def bomb_png() -> bytes:
    """A tiny PNG whose header claims 30 000 × 30 000 pixels (decompression bomb)."""
    import struct
    import zlib

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )
