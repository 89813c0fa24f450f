"""Demo trichoscopy: follicle-model patients rendered into phantom images at each visit.

Each synthetic patient's target-site follicles are simulated by ``anagen.follicles`` (with the
treatment hypothesis), and the hairs present at each visit are drawn by ``anagen.phantoms`` at
fixed follicle positions, so the same site really is re-imaged visit after visit.
"""

from __future__ import annotations

import io
from datetime import timedelta

import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from anagen.clinic.imaging import services as imaging
from anagen.clinic.imaging.models import Device
from anagen.follicles import generate_cohort
from anagen.phantoms import HairSpec, PhantomSpec, render_phantom

UM_PER_PX = 6.0
WIDTH, HEIGHT = 1000, 750
AREA_CM2 = (WIDTH * UM_PER_PX / 1e4) * (HEIGHT * UM_PER_PX / 1e4)
VISIT_DAYS = (0, 30, 90, 180, 365)


def demo_device() -> Device:
    device, _ = Device.objects.get_or_create(
        name="Demo dermatoscope", defaults={"magnification": "20×", "um_per_px": UM_PER_PX}
    )
    return device


def _hair_specs(hairs, *, seed: int) -> tuple[HairSpec, ...]:
    specs = []
    for hair in hairs:
        place = np.random.default_rng([seed, hair.follicle])  # the follicle never moves
        specs.append(
            HairSpec(
                x=float(place.uniform(0, WIDTH)),
                y=float(place.uniform(0, HEIGHT)),
                angle_deg=float(place.uniform(0, 360)),
                length_um=float(place.uniform(500, 1400)),  # clipped ~1 mm, as in a phototrichogram
                diameter_um=float(hair.diameter_um),
                curvature_per_mm=float(place.normal(0, 0.15)),
                anagen=hair.phase == "anagen",
            )
        )
    return tuple(specs)


def image_patients(*, treated: list, actor_for, seed: int, today) -> int:
    """Target site and trichoscopy at each past visit for the given (patient, first day) pairs."""
    if not treated:
        return 0
    cohort = generate_cohort(
        seed, len(treated), visit_days=VISIT_DAYS, area_cm2=AREA_CM2, treated_fraction=1.0
    )
    device = demo_device()
    images = 0
    for (patient, first_day), synthetic in zip(treated, cohort, strict=True):
        actor = actor_for(patient)
        site = imaging.target_site_create(
            actor=actor,
            patient=patient,
            zone="vertex",
            description="Vertex, 1 cm left of the midline",
            landmark_note="Tattoo dot at centre",
        )
        colour = ["black", "brown", "black", "grey"][patient.pk % 4]
        for snapshot in synthetic.visits:
            day = first_day + timedelta(days=snapshot.day)
            if day > today:
                break
            image, _ = render_phantom(
                PhantomSpec(
                    width=WIDTH,
                    height=HEIGHT,
                    um_per_px=UM_PER_PX,
                    hair_colour=colour,
                    seed=seed + patient.pk,
                    noise_seed=snapshot.day,
                    hairs=_hair_specs(snapshot.hairs, seed=seed + patient.pk),
                )
            )
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, "PNG")
            visit = imaging.imaging_visit_create(
                actor=actor,
                patient=patient,
                taken_on=day,
                scheduled_visit=patient.scheduled_visits.filter(
                    kind="follow_up", label=f"Day {snapshot.day}"
                ).first(),
            )
            imaging.trichoscopy_upload(
                actor=actor,
                visit=visit,
                target_site=site,
                device=device,
                image=SimpleUploadedFile(
                    f"{patient.mrn}-d{snapshot.day}.png", buffer.getvalue(), "image/png"
                ),
            )
            images += 1
    return images
