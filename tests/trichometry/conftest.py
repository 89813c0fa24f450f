from __future__ import annotations

import pytest

from anagen.phantoms import PhantomSpec, render_phantom, write_image


@pytest.fixture(scope="session")
def small_phantom(tmp_path_factory):
    """A small PNG phantom on disk with its ground truth."""
    spec = PhantomSpec(
        width=640, height=480, seed=4, density_per_cm2=150, crossings=False, units=False
    )
    img, truth = render_phantom(spec)
    d = tmp_path_factory.mktemp("phantom")
    path = d / "p.png"
    write_image(path, img)
    return path, img, truth
