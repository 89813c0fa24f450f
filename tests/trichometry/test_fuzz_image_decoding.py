"""Fuzzing the trichometry image reader: damaged, truncated, mislabelled and random files.

``anagen.trichometry.load_image`` either returns an ``(H, W, 3)`` ``uint8`` array or raises
its documented ``ImageError`` with one line naming the file; never another exception, never a
partial picture of a truncated file. ``anagen trichometry analyze`` on such a file exits
non-zero with one ``error:`` line naming it (the engine's generic "Type: message" fallback
never shows). The inputs are mutations of small valid PNG, JPEG, TIFF and BMP files (cut short,
bytes overwritten, header sizes changed, bytes inserted) and plain random bytes.
"""

from __future__ import annotations

import io
import os
import re
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from anagen.cli import main
from anagen.trichometry import ImageError, load_image


def _seed(fmt: str, size=(40, 30), mode="RGB") -> bytes:
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    image = Image.fromarray(pixels).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def _png16() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.arange(1200, dtype=np.uint16).reshape(30, 40) * 50).save(buffer, "PNG")
    return buffer.getvalue()


SEEDS = {
    "png": _seed("PNG"),
    "png16": _png16(),
    "jpeg": _seed("JPEG"),
    "tiff": _seed("TIFF"),
    "bmp": _seed("BMP"),
    "grey-png": _seed("PNG", mode="L"),
}


@st.composite
def damaged_files(draw) -> bytes:
    kind = draw(st.sampled_from(["random", "truncate", "overwrite", "insert", "header", "valid"]))
    if kind == "random":
        return draw(st.binary(max_size=600))
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    if kind == "truncate":
        return bytes(data[: draw(st.integers(0, len(data) - 1))])
    if kind == "overwrite":
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, len(data) - 1))
            data[at] = draw(st.integers(0, 255))
        return bytes(data)
    if kind == "insert":
        at = draw(st.integers(0, len(data)))
        return bytes(data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:])
    if kind == "header":  # width/height/bit-depth fields and their neighbours
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, min(len(data) - 1, 40)))
            data[at] = draw(st.sampled_from([0, 1, 0x7F, 0x80, 0xFF, draw(st.integers(0, 255))]))
        return bytes(data)
    return bytes(data)


def _write(data: bytes, suffix: str = ".png") -> str:
    fd, path = tempfile.mkstemp(prefix="fuzz-", suffix=suffix)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path


@settings(
    max_examples=int(os.environ.get("ANAGEN_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(damaged_files(), st.sampled_from([".png", ".jpg", ".tif", ".bmp", ".dat"]))
def test_load_image_returns_rgb_or_raises_image_error(data: bytes, suffix: str) -> None:
    path = _write(data, suffix)
    try:
        try:
            rgb = load_image(path)
        except ImageError as error:
            message = str(error)
            assert message.startswith(path + ": ")
            assert "\n" not in message
            return
        assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
        assert rgb.shape[0] > 0 and rgb.shape[1] > 0
    finally:
        os.unlink(path)


@pytest.fixture(params=[False, True], ids=["strict", "truncated-allowed-globally"])
def pillow_global(request, monkeypatch):
    """Pillow's process-wide switch as left by other libraries (WeasyPrint sets it to True)."""
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", request.param)
    return request.param


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_seed_decodes_and_every_cut_is_refused(name: str, pillow_global: bool) -> None:
    """The seeds are valid (so mutations start from real files); a file cut anywhere after
    its header is refused, never returned as a partial picture, whatever another library set
    Pillow's global ``LOAD_TRUNCATED_IMAGES`` to (True once WeasyPrint is imported: the
    clinic's processes). The switch is left as it was found."""
    data = SEEDS[name]
    path = _write(data)
    try:
        assert load_image(path).shape[:2] == (30, 40)
    finally:
        os.unlink(path)
    for cut in sorted({len(data) // 2, len(data) - 12, len(data) - 1}):
        path = _write(data[:cut])
        try:
            with pytest.raises(ImageError):
                load_image(path)
        finally:
            os.unlink(path)
    assert pillow_global == ImageFile.LOAD_TRUNCATED_IMAGES


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_files())
def test_cli_analyze_reports_one_line_per_bad_file(data: bytes) -> None:
    path = _write(data)
    try:
        with _captured() as err:
            code = main(["trichometry", "analyze", path, "--um-per-px", "6", "--json"])
        lines = [line for line in err.getvalue().splitlines() if "error:" in line]
        if code == 0:
            assert not lines
            return
        assert code == 1 and len(lines) == 1, err.getvalue()
        assert lines[0].startswith(f"anagen trichometry: error: {path}: ")
        # Only the reader's documented errors, not the engine's generic "Type: message".
        assert not re.search(rf"{re.escape(path)}: [A-Z][A-Za-z]*(Error|Exception):", lines[0])
    finally:
        os.unlink(path)


class _captured:
    def __enter__(self):
        import contextlib

        self.err = io.StringIO()
        self._out = contextlib.redirect_stdout(io.StringIO())
        self._err = contextlib.redirect_stderr(self.err)
        self._out.__enter__()
        self._err.__enter__()
        return self.err

    def __exit__(self, *exc):
        self._err.__exit__(*exc)
        self._out.__exit__(*exc)
        return False
