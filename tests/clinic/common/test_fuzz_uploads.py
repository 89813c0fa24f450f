"""Fuzzing the upload check (``common.uploads.validate_image_upload``) every image form uses.

Damaged, truncated, mislabelled and random files: the check either accepts the file (then it
is a JPEG, PNG or TIFF within the pixel limit that Pillow decodes completely) or raises a
Django ``ValidationError`` with one of its documented messages; never another exception, and
the upload's read position is put back either way. No database.
"""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from anagen.clinic.common.uploads import strict_image_decoding, validate_image_upload
from tests.trichometry.test_fuzz_image_decoding import SEEDS, damaged_files

DOCUMENTED = (
    "The file is ",  # … MB; the limit is … MB.
    "images are not accepted; use JPEG, PNG or TIFF.",
    "The image claims ",
    "The file is not a readable image.",
    "The image is damaged or truncated: upload it again from the camera.",
)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_files(), st.integers(0, 5))
def test_upload_check_accepts_a_whole_image_or_refuses_in_words(data: bytes, offset: int):
    upload = SimpleUploadedFile("scan.png", data, content_type="image/png")
    upload.seek(min(offset, len(data)))
    position = upload.tell()
    try:
        validate_image_upload(upload)
    except ValidationError as error:
        (message,) = error.messages
        assert any(part in message for part in DOCUMENTED), message
        assert upload.tell() == position
        return
    assert upload.tell() == position
    upload.seek(0)
    with strict_image_decoding(), Image.open(upload) as image:
        assert image.format in {"JPEG", "PNG", "TIFF"}
        assert image.width * image.height <= django_settings.ANAGEN_MAX_IMAGE_PIXELS
        image.load()  # the whole picture is there (a cut JPEG or TIFF used to pass: fixed)


@pytest.mark.parametrize("name", ["jpeg", "tiff"])
def test_a_jpeg_or_tiff_cut_short_is_refused_at_upload(name: str):
    """Found by the fuzzing above: ``verify()`` let these through before."""
    data = SEEDS[name]
    upload = SimpleUploadedFile("scan", data[: len(data) - 40])
    with pytest.raises(ValidationError, match="damaged or truncated"):
        validate_image_upload(upload)
    validate_image_upload(SimpleUploadedFile("scan", data))  # the whole file passes
