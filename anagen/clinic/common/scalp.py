"""The scalp zones: one vocabulary for where cells are injected and where images are taken.

Treatment plans and sessions (``treatment``) and imaging target sites (``imaging``) both name a
zone; both read it from here, so a zone added or renamed is the same zone on both sides.
"""

from __future__ import annotations

from django.db import models


class ScalpZone(models.TextChoices):
    FRONTAL = "frontal", "Frontal"
    MID_SCALP = "mid_scalp", "Mid-scalp"
    VERTEX = "vertex", "Vertex"
    TEMPORAL_LEFT = "temporal_left", "Temporal left"
    TEMPORAL_RIGHT = "temporal_right", "Temporal right"
    OCCIPITAL = "occipital", "Occipital"
