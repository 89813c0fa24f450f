"""Trichometry: hair count, density, diameters, vellus/terminal and anagen/telogen from
trichoscopy images of clipped hair (pure library, no Django)."""

from anagen.trichometry.change import ChangeError, ChangeResult, HairFate, matched_change
from anagen.trichometry.engine import (
    ALGORITHM_VERSION,
    DEFAULT_VELLUS_MAX_UM,
    Hair,
    QualityFlag,
    TrichometryResult,
    analyze,
)
from anagen.trichometry.frame import CountingFrame, designated_end, is_counted
from anagen.trichometry.growth import AnagenResult, HairGrowth, anagen_telogen
from anagen.trichometry.io import DEFAULT_MAX_PIXELS, ImageError, check_calibration, load_image
from anagen.trichometry.overlay import render_overlay, write_overlay

__all__ = [
    "ALGORITHM_VERSION",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_VELLUS_MAX_UM",
    "AnagenResult",
    "ChangeError",
    "ChangeResult",
    "CountingFrame",
    "Hair",
    "HairFate",
    "HairGrowth",
    "ImageError",
    "QualityFlag",
    "TrichometryResult",
    "anagen_telogen",
    "analyze",
    "check_calibration",
    "designated_end",
    "is_counted",
    "load_image",
    "matched_change",
    "render_overlay",
    "write_overlay",
]
