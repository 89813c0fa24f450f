"""Safe image loading and calibration checks."""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFile, UnidentifiedImageError

#: default maximum number of pixels accepted (about 8000 x 5000)
DEFAULT_MAX_PIXELS = 40_000_000
#: plausible calibration range for trichoscopy, micrometres per pixel
MIN_UM_PER_PX = 0.1
MAX_UM_PER_PX = 100.0


class ImageError(ValueError):
    """An input image or its calibration cannot be used; ``str(err)`` is one line."""


def check_calibration(um_per_px: float | None) -> float:
    """Validate a calibration and return it as ``float``.

    Raises
    ------
    ImageError
        If the calibration is missing, not a finite number or outside 0.1-100 um/px.
    """
    if um_per_px is None:
        raise ImageError("missing calibration: um_per_px is required (micrometres per pixel)")
    try:
        value = float(um_per_px)
    except (TypeError, ValueError):
        raise ImageError(f"invalid calibration {um_per_px!r}: not a number") from None
    if not math.isfinite(value) or not (MIN_UM_PER_PX <= value <= MAX_UM_PER_PX):
        raise ImageError(
            f"invalid calibration {um_per_px!r} um/px: expected {MIN_UM_PER_PX}-{MAX_UM_PER_PX}"
        )
    return value


def load_image(path: str | os.PathLike[str], max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode an image file into an RGB ``uint8`` array with safety checks.

    The header is read first and images larger than ``max_pixels`` are refused before any
    pixel data is decoded (decompression-bomb protection). Truncated or corrupt files raise
    instead of returning partial data.

    Parameters
    ----------
    path : path of a PNG, JPEG, TIFF or BMP file.
    max_pixels : largest accepted ``width * height``.

    Returns
    -------
    (H, W, 3) uint8 RGB array.

    Raises
    ------
    ImageError
        With a one-line message naming the file.
    """
    p = Path(path)
    name = str(p)
    if not p.exists():
        raise ImageError(f"{name}: no such file")
    if not p.is_file():
        raise ImageError(f"{name}: not a regular file")
    # Another library in the same process may have told Pillow to accept truncated files
    # (WeasyPrint sets ImageFile.LOAD_TRUNCATED_IMAGES = True on import): refuse them here
    # whatever the global says (found by tests/trichometry/test_fuzz_image_decoding.py).
    truncated_ok = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                w, h = im.size
                if w <= 0 or h <= 0:
                    raise ImageError(f"{name}: image has no pixels")
                if w * h > max_pixels:
                    raise ImageError(
                        f"{name}: image too large ({w}x{h} = {w * h} pixels > {max_pixels});"
                        " refused before decoding"
                    )
                fmt = im.format
                arr = _fast_decode(p, fmt, name) if fmt in ("PNG", "JPEG") else None
                if arr is None:
                    im.load()
                    arr = _to_rgb(im)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        size = _peek_png_size(p)
        what = f"{size[0]}x{size[1]}" if size else "header size"
        raise ImageError(
            f"{name}: image too large ({what} exceeds the decompression-bomb limit);"
            " refused before decoding"
        ) from None
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image (unrecognised format)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        msg = " ".join(str(exc).split()) or type(exc).__name__
        if "truncated" in msg.lower() or isinstance(exc, EOFError):
            raise ImageError(f"{name}: truncated or corrupt image ({msg})") from None
        raise ImageError(f"{name}: cannot decode image ({msg})") from None
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated_ok
    return arr


def _peek_png_size(p: Path) -> tuple[int, int] | None:
    """Width and height from a PNG IHDR header, or None."""
    with open(p, "rb") as fh:
        head = fh.read(24)
    if len(head) == 24 and head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    return None


_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def _fast_decode(p: Path, fmt: str, name: str) -> np.ndarray | None:
    """Decode PNG/JPEG with OpenCV after checking the file is complete; None to fall back."""
    import cv2

    data = p.read_bytes()
    if fmt == "PNG" and not data.rstrip(b"\x00").endswith(_PNG_IEND):
        raise ImageError(f"{name}: truncated or corrupt image (PNG has no IEND chunk)")
    if fmt == "JPEG" and b"\xff\xd9" not in data[-4096:]:
        raise ImageError(f"{name}: truncated or corrupt image (JPEG has no end marker)")
    buf = np.frombuffer(data, np.uint8)
    if fmt == "PNG" and data[24] not in (8,):  # 16-bit or <8-bit samples: let Pillow handle it
        return None
    arr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if arr is None:
        raise ImageError(f"{name}: truncated or corrupt image (decoder failed)")
    return cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)


def _to_rgb(im: Image.Image) -> np.ndarray:
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(im, dtype=np.float64)
        hi = a.max() or 1.0
        g = np.clip(a * (255.0 / (65535.0 if hi > 255 else 255.0)), 0, 255).astype(np.uint8)
        return np.repeat(g[:, :, None], 3, axis=2)
    if im.mode != "RGB":
        im = im.convert("RGB")
    return np.ascontiguousarray(np.asarray(im, dtype=np.uint8))


def as_rgb_array(image: np.ndarray) -> np.ndarray:
    """Coerce an array (grey, RGB or RGBA; uint8, uint16 or float 0-1) to RGB uint8."""
    a = np.asarray(image)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4) or a.shape[0] < 16 or a.shape[1] < 16:
        raise ImageError(f"unsupported image array of shape {a.shape}")
    if a.shape[2] == 4:
        a = a[:, :, :3]
    if a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    if a.dtype == np.uint8:
        return np.ascontiguousarray(a)
    if a.dtype == np.uint16:
        high: npt.NDArray[np.uint8] = (a >> 8).astype(np.uint8)
        return high
    if np.issubdtype(a.dtype, np.floating):
        scale = 255.0 if float(np.nanmax(a)) <= 1.0 else 1.0
        scaled: npt.NDArray[np.uint8] = np.clip(np.nan_to_num(a) * scale, 0, 255).astype(np.uint8)
        return scaled
    clipped: npt.NDArray[np.uint8] = np.clip(a, 0, 255).astype(np.uint8)
    return clipped
