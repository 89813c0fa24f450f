"""Synthetic trichoscopy images with exact ground truth (pure library, no Django)."""

from anagen.phantoms.followup import (
    FollowUpChange,
    FollowUpPair,
    carried_from_snapshots,
    render_followup,
)
from anagen.phantoms.hairs import hair_polyline
from anagen.phantoms.render import render_pair, render_phantom, write_image
from anagen.phantoms.spec import GroundTruth, HairSpec, PhantomPair, PhantomSpec, TruthHair

__all__ = [
    "FollowUpChange",
    "FollowUpPair",
    "GroundTruth",
    "HairSpec",
    "PhantomPair",
    "PhantomSpec",
    "TruthHair",
    "carried_from_snapshots",
    "hair_polyline",
    "render_followup",
    "render_pair",
    "render_phantom",
    "write_image",
]
