"""Synthetic trichoscopy images with exact ground truth (pure library, no Django)."""

from anagen.phantoms.render import (
    GroundTruth,
    HairSpec,
    PhantomPair,
    PhantomSpec,
    TruthHair,
    hair_polyline,
    render_pair,
    render_phantom,
    write_image,
)

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
