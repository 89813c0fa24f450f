"""Synthetic trichoscopy images with exact ground truth (pure library, no Django)."""

from anagen.phantoms.hairs import hair_polyline
from anagen.phantoms.render import render_pair, render_phantom, write_image
from anagen.phantoms.spec import GroundTruth, HairSpec, PhantomPair, PhantomSpec, TruthHair

__all__ = [
    "GroundTruth",
    "HairSpec",
    "PhantomPair",
    "PhantomSpec",
    "TruthHair",
    "hair_polyline",
    "render_pair",
    "render_phantom",
    "write_image",
]
