"""Checks for every uploaded file: declared type, size and decompression bombs.

An image is opened with Pillow only far enough to read its header; the pixel count is checked
before any decoding, so a small file claiming 30 000 × 30 000 pixels is refused without
allocating memory for it.
"""

from __future__ import annotations

from contextlib import contextmanager

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image, ImageFile, UnidentifiedImageError

ALLOWED_IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "TIFF": "image/tiff"}


@contextmanager
def strict_image_decoding():
    """Refuse truncated images while checking, whatever another library set globally.

    WeasyPrint sets ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES = True`` when it is imported, which
    would let a truncated upload through as a partly grey picture.
    """
    before = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before


def validate_image_upload(uploaded) -> None:
    """Raise ``ValidationError`` unless ``uploaded`` is a JPEG/PNG/TIFF of sane size."""
    max_bytes = settings.ANAGEN_MAX_UPLOAD_BYTES
    if uploaded.size is not None and uploaded.size > max_bytes:
        raise ValidationError(
            f"The file is {uploaded.size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB."
        )
    position = uploaded.tell() if hasattr(uploaded, "tell") else 0
    try:
        uploaded.seek(0)
        with strict_image_decoding(), Image.open(uploaded) as image:
            fmt = image.format
            width, height = image.size
            if fmt not in ALLOWED_IMAGE_FORMATS:
                raise ValidationError(f"{fmt} images are not accepted; use JPEG, PNG or TIFF.")
            if width * height > settings.ANAGEN_MAX_IMAGE_PIXELS:
                raise ValidationError(
                    f"The image claims {width} × {height} pixels, more than the "
                    f"{settings.ANAGEN_MAX_IMAGE_PIXELS / 1e6:.0f} megapixel limit."
                )
            image.verify()  # checks the data stream without keeping the pixels
        if fmt != "PNG":
            # verify() checks PNG chunk by chunk but does next to nothing for JPEG and TIFF: a
            # file cut short would pass (found by tests/clinic/common/test_fuzz_uploads.py).
            # Decode it once, a JPEG at 1/8 scale (the whole stream is still read).
            uploaded.seek(0)
            with strict_image_decoding(), Image.open(uploaded) as image:
                if fmt == "JPEG":
                    image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()
    except Image.DecompressionBombError:
        raise ValidationError(
            "The image claims more pixels than the "
            f"{settings.ANAGEN_MAX_IMAGE_PIXELS / 1e6:.0f} megapixel limit."
        ) from None
    except UnidentifiedImageError:
        raise ValidationError("The file is not a readable image.") from None
    except (OSError, SyntaxError, ValueError):
        raise ValidationError(
            "The image is damaged or truncated: upload it again from the camera."
        ) from None
    finally:
        uploaded.seek(position)


class SafeImageField(forms.ImageField):
    """An image form field that runs the upload checks before Pillow decodes anything."""

    def to_python(self, data):
        if data not in self.empty_values:
            validate_image_upload(data)
        return super().to_python(data)
