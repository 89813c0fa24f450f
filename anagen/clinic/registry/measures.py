"""How the registry reads an analysed image: the terminal threshold and the visit windows.

One place for the conventions every outcome row follows, so the table, the pages and the
exports agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from anagen.clinic.imaging.models import TrichoscopyImage
from anagen.evidence.windows import DEFAULT_WINDOWS, default_tolerance

#: Shaft diameter from which a hair counts as terminal (µm). The trials' target-area hair
#: counts use 30 µm; the engine's own split (its ``vellus_max_um``) is kept in its result.
TERMINAL_MIN_UM_DEFAULT = 30.0


def terminal_min_um() -> float:
    return float(getattr(settings, "ANAGEN_TERMINAL_MIN_UM", TERMINAL_MIN_UM_DEFAULT))


def outcome_windows() -> tuple[int, ...]:
    return tuple(getattr(settings, "ANAGEN_OUTCOME_WINDOWS", DEFAULT_WINDOWS))


def nearest_window(day: int, windows: tuple[int, ...] | None = None) -> int | None:
    """The protocol window a visit on ``day`` falls in (nearest, within its tolerance)."""
    best: tuple[float, int] | None = None
    for window in windows or outcome_windows():
        distance = abs(day - window)
        within = day > 0 and distance <= default_tolerance(window)
        if within and (best is None or distance < best[0]):
            best = (distance, window)
    return None if best is None else best[1]


@dataclass(frozen=True)
class HairCounts:
    """Terminal and vellus counts of one image split at ``terminal_min_um``."""

    terminal: int
    vellus: int

    @property
    def total(self) -> int:
        return self.terminal + self.vellus


def split_counts(image: TrichoscopyImage, *, corrected: bool, threshold_um: float) -> HairCounts:
    """Count the image's hairs as terminal (shaft ≥ threshold) or vellus.

    ``corrected``: leave out the hairs a clinician removed and add the ones they marked as
    missed (their terminal/vellus call is the clinician's).
    """
    result = image.result or {}
    removed = set(image.removed_hair_ids) if corrected else set()
    kept = [h for h in result.get("hairs", []) if h["counted"] and h["id"] not in removed]
    terminal = sum(1 for h in kept if h["diameter_um"] >= threshold_um)
    vellus = len(kept) - terminal
    if corrected:
        terminal += image.added_terminal
        vellus += image.added_vellus
    return HairCounts(terminal=terminal, vellus=vellus)
