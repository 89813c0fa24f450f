"""Safe loading: clear one-line ImageError for every kind of bad input."""

from __future__ import annotations

import struct
import time
import zlib

import numpy as np
import pytest

from anagen.trichometry import ImageError, analyze, check_calibration, load_image


def _png_header(width: int, height: int) -> bytes:
    """PNG signature + IHDR claiming ``width x height`` RGB, a tiny IDAT and IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and msg
    return msg


def test_image_error_is_value_error():
    assert issubclass(ImageError, ValueError)


def test_not_an_image(tmp_path):
    p = tmp_path / "notes.png"
    p.write_text("this is not an image\n")
    with pytest.raises(ImageError) as exc:
        load_image(p)
    msg = _one_line(exc)
    assert "not an image" in msg and "notes.png" in msg


def test_truncated_png(tmp_path, small_phantom):
    src, _, _ = small_phantom
    data = src.read_bytes()
    p = tmp_path / "cut.png"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError) as exc:
        load_image(p)
    assert "truncated" in _one_line(exc)


def test_truncated_jpeg(tmp_path, small_phantom):
    import cv2

    _, img, _ = small_phantom
    _ok, buf = cv2.imencode(".jpg", img)
    p = tmp_path / "cut.jpg"
    p.write_bytes(buf.tobytes()[: len(buf) // 2])
    with pytest.raises(ImageError) as exc:
        load_image(p)
    assert "truncated" in _one_line(exc)


def test_decompression_bomb_refused_from_header(tmp_path):
    p = tmp_path / "bomb.png"
    p.write_bytes(_png_header(30000, 30000))
    assert p.stat().st_size < 200
    t = time.perf_counter()
    with pytest.raises(ImageError) as exc:
        load_image(p)
    assert time.perf_counter() - t < 1.0  # refused from the header, nothing decoded
    msg = _one_line(exc)
    assert "too large" in msg and "30000x30000" in msg


def test_max_pixels_is_configurable(small_phantom):
    path, img, _ = small_phantom
    assert load_image(path).shape == img.shape
    with pytest.raises(ImageError, match="too large"):
        load_image(path, max_pixels=1000)


def test_missing_file(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "nope.png")


def test_round_trip_and_grey(tmp_path, small_phantom):
    from PIL import Image

    path, img, _ = small_phantom
    assert np.array_equal(load_image(path), img)
    g = tmp_path / "grey.png"
    Image.fromarray(img[:, :, 1]).save(g)
    out = load_image(g)
    assert out.shape == img.shape and np.array_equal(out[:, :, 0], img[:, :, 1])
    g16 = tmp_path / "grey16.png"
    Image.fromarray(img[:, :, 1].astype(np.uint16) * 257).save(g16)
    assert load_image(g16).shape == img.shape


@pytest.mark.parametrize("bad", [None, 0, -3, float("nan"), "abc", 1e6])
def test_missing_or_invalid_calibration(bad, small_phantom):
    _, img, _ = small_phantom
    with pytest.raises(ImageError) as exc:
        analyze(img, bad)
    msg = _one_line(exc)
    assert "calibration" in msg
    if bad is None:
        assert "missing" in msg


def test_valid_calibration():
    assert check_calibration("6.5") == 6.5
