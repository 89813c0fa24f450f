"""Stage 6: quality flags of an analysis (focus, exposure, coverage, contrast, ...)."""

from __future__ import annotations

import cv2
import numpy as np

from anagen.trichometry._params import Params
from anagen.trichometry._result import Hair, QualityFlag


def quality_flags(
    small: np.ndarray,
    counted: list[Hair],
    blur_um: float,
    hair_contrast: float,
    min_hairs: int,
    limit_um: float,
    params: Params,
) -> tuple[QualityFlag, ...]:
    """Named checks of one analysis; a failed one asks for a re-take or a review.

    Parameters
    ----------
    small : ndarray of float32, shape (h, w, 3)
        Detection-scale RGB image.
    counted : list of Hair
        The counted hairs.
    blur_um : float
        Measured edge blur (Gaussian sigma), micrometres.
    hair_contrast : float
        Typical hair contrast in noise units: the contrast image is noise-whitened, so this
        is the contrast-to-noise ratio itself.
    min_hairs : int
        Fewest counted hairs for a reliable density.
    limit_um : float
        Narrowest diameter the blur resolves, micrometres.
    params : Params

    Returns
    -------
    tuple of QualityFlag
        ``focus, exposure, coverage, contrast, unresolved_diameters, too_few_hairs``.
    """
    p = params
    lum = cv2.transform(small, np.full((1, 3), 1.0 / 3.0, np.float32))
    clipped = float(((lum >= p.clipped_bright) | (lum <= p.clipped_dark)).mean())
    med = float(np.median(lum))
    usable = float(((lum > p.usable_dark) & (lum < p.clipped_bright)).mean())
    at_limit = sum(1 for h in counted if h.diameter_um <= limit_um * (1 + 1e-9))
    unresolved = at_limit / len(counted) if counted else 0.0
    return (
        QualityFlag(
            "focus",
            round(blur_um, 2),
            p.max_blur_um,
            blur_um <= p.max_blur_um,
            "edge blur sigma (um) of hair profiles; re-focus if above threshold",
        ),
        QualityFlag(
            "exposure",
            round(clipped, 4),
            p.max_clipped_fraction,
            clipped <= p.max_clipped_fraction
            and p.min_median_luminance <= med <= p.max_median_luminance,
            "fraction of clipped (saturated or black) pixels; median luminance "
            f"{med:.0f} should be {p.min_median_luminance:.0f}-{p.max_median_luminance:.0f}",
        ),
        QualityFlag(
            "coverage",
            round(usable, 4),
            p.min_usable_fraction,
            usable >= p.min_usable_fraction,
            "fraction of the field that is usable skin (not black or saturated)",
        ),
        QualityFlag(
            "contrast",
            round(hair_contrast, 2),
            p.min_contrast_k,
            hair_contrast >= p.min_contrast_k,
            "hair contrast to noise ratio",
        ),
        QualityFlag(
            "unresolved_diameters",
            round(unresolved, 4),
            p.max_unresolved_fraction,
            unresolved <= p.max_unresolved_fraction,
            f"fraction of counted hairs thinner than the blur resolves ({limit_um:.1f} um, "
            "reported at that limit as an upper bound); re-focus or use a higher magnification",
        ),
        QualityFlag(
            "too_few_hairs",
            float(len(counted)),
            float(min_hairs),
            len(counted) >= min_hairs,
            "counted hairs; below threshold the density is unreliable",
        ),
    )
