"""The camera: small moves of the site between shots, glare, blur, sensor noise and JPEG."""

from __future__ import annotations

from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from .spec import PhantomSpec

__all__ = ["gaussian_patch", "move_image", "move_points", "photograph"]

Transform = tuple[float, float, float]
"""``(dx px, dy px, rotation deg)`` of a later shot relative to the first."""


def _matrix(centre: tuple[float, float], transform: Transform) -> npt.NDArray[np.float64]:
    # One matrix for the image and for the truth, so the two cannot drift apart.
    dx, dy, rot = transform
    # a 2x3 float64 matrix; OpenCV's stubs type every result as an image of any dtype
    m = cast(npt.NDArray[np.float64], cv2.getRotationMatrix2D(centre, -rot, 1.0))
    m[0, 2] += dx
    m[1, 2] += dy
    return m


def move_points(
    poly: npt.NDArray[np.float64], spec: PhantomSpec, transform: Transform
) -> npt.NDArray[np.float64]:
    """Move ``(N, 2)`` image points by ``transform`` about the image centre.

    Parameters
    ----------
    poly : ndarray
        Points ``(x, y)`` in pixels.
    spec : PhantomSpec
        Gives the image size, hence the centre of rotation.
    transform : tuple of float
        ``(dx, dy, rotation_deg)``.

    Returns
    -------
    ndarray
        The moved points (``poly`` itself when the transform is the identity).
    """
    if not any(transform):
        return poly
    m = _matrix((spec.width / 2.0, spec.height / 2.0), transform)
    return poly @ m[:, :2].T + m[:, 2]


def move_image(img: np.ndarray, centre: tuple[float, float], transform: Transform) -> np.ndarray:
    """Move a float image by ``transform`` about ``centre``; edges are reflected.

    Parameters
    ----------
    img : ndarray
        ``(H, W, 3)`` float image.
    centre : tuple of float
        Centre of rotation in the image's pixels.
    transform : tuple of float
        ``(dx, dy, rotation_deg)``.

    Returns
    -------
    ndarray
    """
    if not any(transform):
        return img
    h, w = img.shape[:2]
    m = _matrix(centre, transform)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def gaussian_patch(
    shape: tuple[int, int], x: float, y: float, r: float
) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """A Gaussian blob of radius ``r`` at ``(x, y)``, cut to ``3 r`` and to the image.

    Parameters
    ----------
    shape : tuple of int
        ``(height, width)`` of the image.
    x, y, r : float
        Centre and standard deviation in pixels.

    Returns
    -------
    tuple or None
        ``(rows, cols)`` slices of the image and the blob's values there (peak 1), or
        None when the blob lies outside the image.
    """
    h, w = shape
    x0, x1 = max(int(x - 3 * r), 0), min(int(x + 3 * r) + 1, w)
    y0, y1 = max(int(y - 3 * r), 0), min(int(y + 3 * r) + 1, h)
    if x1 <= x0 or y1 <= y0:
        return None
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    g = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * r * r))
    return (slice(y0, y1), slice(x0, x1)), g


def _specular(img: np.ndarray, rng: np.random.Generator, n: int) -> None:
    """Add ``n`` glints of light reflected by the skin (in place)."""
    for _ in range(n):
        x, y = rng.uniform(0, img.shape[1]), rng.uniform(0, img.shape[0])
        r = rng.uniform(1.5, 5.0)
        a = rng.uniform(0.25, 0.7)
        patch = gaussian_patch(img.shape[:2], x, y, r)
        if patch is None:
            continue
        where, g = patch
        img[where] += (255.0 - img[where]) * (a * g)[:, :, None]


def photograph(
    img: np.ndarray, spec: PhantomSpec, rng: np.random.Generator
) -> npt.NDArray[np.uint8]:
    """Turn the rendered scene into a camera image: glare, blur, noise, 8 bits, JPEG.

    Parameters
    ----------
    img : ndarray
        ``(H, W, 3)`` float scene, already cropped to the image size (changed in place).
    spec : PhantomSpec
        ``blur_sigma_px``, ``noise_sigma`` and ``jpeg_quality``.
    rng : numpy.random.Generator
        The shot's own stream, so the same scene can be re-imaged with other noise.

    Returns
    -------
    ndarray
        ``(H, W, 3)`` uint8 RGB.
    """
    _specular(img, rng, int(rng.integers(15, 50)))
    if spec.blur_sigma_px > 0:
        img = cv2.GaussianBlur(img, (0, 0), spec.blur_sigma_px)
    if spec.noise_sigma > 0:
        img = img + rng.normal(0, spec.noise_sigma, img.shape).astype(np.float32)
    out: npt.NDArray[np.uint8] = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    if spec.jpeg_quality is not None:
        ok, buf = cv2.imencode(
            ".jpg", out[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(spec.jpeg_quality)]
        )
        if not ok:  # pragma: no cover
            raise RuntimeError("JPEG encoding failed")
        decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        if decoded is None:  # pragma: no cover
            raise RuntimeError("JPEG decoding failed")
        out = np.asarray(decoded, dtype=np.uint8)[:, :, ::-1].copy()  # uint8 for the stubs
    return out
