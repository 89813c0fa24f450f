"""Demo imaging: follicle-model patients rendered into phantom images at each visit.

Each synthetic patient's target-site follicles are simulated by ``anagen.follicles`` (with the
treatment hypothesis), and the hairs present at each visit are drawn by ``anagen.phantoms`` at
fixed follicle positions, so the same site really is re-imaged visit after visit. The model's
individual response makes responders and non-responders; a few follow-up windows pass without
the patient (missed visits); every visit has standardized clinical photos (top and front), each
follow-up a visit report, and some visits a phototrichogram re-image two days later.

Every visit is entered *as of* its day (``clock.frozen``), like the rest of the demo's past.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFilter

from anagen.clinic.common import clock
from anagen.clinic.imaging import services as imaging
from anagen.clinic.imaging.models import Device
from anagen.clinic.registry.services import visit_report_record
from anagen.follicles import generate_cohort
from anagen.follicles.cohort import SyntheticPatient, VisitSnapshot
from anagen.phantoms import HairSpec, PhantomSpec, render_phantom
from anagen.phantoms.render import render_pair

UM_PER_PX = 6.0
WIDTH, HEIGHT = 1000, 750
AREA_CM2 = (WIDTH * UM_PER_PX / 1e4) * (HEIGHT * UM_PER_PX / 1e4)
VISIT_DAYS = (0, 30, 90, 180, 365)
#: Visits whose trichoscopy is repeated two days later (phototrichogram), for every third patient
REIMAGE_DAYS = (0, 180)
REIMAGE_AFTER_DAYS = 2
#: Chance that a follow-up window passes without the patient (never baseline)
MISSED_VISIT = 0.15
#: Standardized clinical photos taken at every visit (small: the demo stays quick to load)
PHOTO_VIEWS = ("top", "front")
PHOTO_SIZE = (480, 360)


@dataclass
class ImagingSummary:
    patients: int = 0
    images: int = 0
    reimages: int = 0
    photos: int = 0
    reports: int = 0
    missed: int = 0


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


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG", compress_level=1)  # fast; lossless all the same
    return buffer.getvalue()


def _terminal(snapshot: VisitSnapshot) -> int:
    return sum(1 for h in snapshot.hairs if h.terminal)


def _photo(*, view: str, coverage: float, seed: int, pk: int, day: int) -> bytes:
    """A small standardized clinical photo: the head from above or the front, its thinning area
    showing as much scalp as the follicle model's terminal hairs leave (JPEG, 480 × 360)."""
    width, height = PHOTO_SIZE
    place = np.random.default_rng([seed, pk, PHOTO_VIEWS.index(view)])  # the same head
    shot = np.random.default_rng([seed, pk, PHOTO_VIEWS.index(view), day])  # this visit's shot
    image = Image.new("RGB", PHOTO_SIZE, (74, 88, 104))  # the clinic's blue-grey backdrop
    draw = ImageDraw.Draw(image)
    dx, dy = (float(v) for v in shot.normal(0, 3, 2))  # standardized, not pixel-identical
    cx, cy = width / 2 + dx, height / 2 + 20 + dy
    skin = tuple(int(c) for c in place.integers(-12, 12, 3) + np.array([214, 170, 140]))
    hair = (38, 28, 22) if pk % 4 != 3 else (120, 116, 112)
    if view == "top":
        rx, ry = 150.0, 170.0
        centre = (cx, cy + 20)  # thinning at the crown
    else:
        rx, ry = 140.0, 165.0
        draw.ellipse((cx - rx, cy - ry + 40, cx + rx, cy + ry + 40), fill=skin)  # the face
        centre = (cx, cy - ry * 0.75)  # thinning behind the frontal hairline
    draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=skin)
    n = 2600
    angle = place.uniform(0, 2 * math.pi, n)
    radius = np.sqrt(place.uniform(0, 1, n))
    xs, ys = cx + rx * radius * np.cos(angle), cy + ry * radius * np.sin(angle)
    if view == "front":
        keep = ys < cy - ry * 0.35  # hair only above the hairline
        xs, ys, angle = xs[keep], ys[keep], angle[keep]
    thin = np.hypot((xs - centre[0]) / rx, (ys - centre[1]) / ry) < 0.55
    order = place.permutation(len(xs))  # which strands a thinner visit loses first
    shown = np.ones(len(xs), dtype=bool)
    thinning = order[thin[order]]
    shown[thinning[round(coverage * len(thinning)) :]] = False
    tilt = place.uniform(-0.6, 0.6, len(xs))
    for x, y, a, visible in zip(xs, ys, tilt, shown, strict=True):
        if visible:
            draw.line((x, y, x + 9 * math.sin(a), y + 9 * math.cos(a)), fill=hair, width=2)
    image = image.filter(ImageFilter.GaussianBlur(0.6))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _coverage(synthetic: SyntheticPatient, snapshot: VisitSnapshot) -> float:
    base = max(_terminal(synthetic.visits[0]), 1)
    start = 0.75 - 0.5 * synthetic.severity
    return float(np.clip(start * (_terminal(snapshot) / base) ** 3, 0.05, 0.98))


def _report(rng: np.random.Generator, synthetic: SyntheticPatient, snapshot: VisitSnapshot):
    """The follow-up's report, following the model's change since baseline (with noise)."""
    change = (snapshot.hair_count - synthetic.visits[0].hair_count) / AREA_CM2  # hairs/cm²
    telogen = sum(1 for h in snapshot.hairs if h.phase != "anagen") / max(snapshot.hair_count, 1)
    pull = None if rng.random() < 0.15 else int(np.clip(round(60 * telogen * 0.3), 0, 60))
    score = change / 12 + rng.normal(0, 0.6)
    return {
        "pull_test_hairs": pull,
        "satisfaction": int(np.clip(round(3 + change / 15 + rng.normal(0, 0.7)), 1, 5)),
        "shedding": int(np.clip(round(-change / 20 + rng.normal(0, 0.5)), -1, 1)),
        "global_assessment": int(np.clip(round(score), -3, 3)),
    }


def _at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def image_patients(
    *, treated: list, actor_for, physician_for, seed: int, today: date
) -> ImagingSummary:
    """Target site, trichoscopy, photos and reports at each past visit of the given
    (patient, first session day) pairs; returns what was made."""
    summary = ImagingSummary()
    if not treated:
        return summary
    cohort = generate_cohort(
        seed, len(treated), visit_days=VISIT_DAYS, area_cm2=AREA_CM2, treated_fraction=1.0
    )
    device = demo_device()
    for index, ((patient, first_day), synthetic) in enumerate(zip(treated, cohort, strict=True)):
        actor, physician = actor_for(patient), physician_for(patient)
        rng = np.random.default_rng([seed, 11, index])
        reimaged = index % 3 == 0
        with clock.frozen(_at(first_day, 9)):
            site = imaging.target_site_create(
                actor=actor,
                patient=patient,
                zone="vertex",
                description="Vertex, 1 cm left of the midline",
                landmark_note="Tattoo dot at centre",
            )
        summary.patients += 1
        colour = ["black", "brown", "black", "grey"][patient.pk % 4]
        for snapshot in synthetic.visits:
            day = first_day + timedelta(days=snapshot.day)
            if day > today:
                break
            if snapshot.day > 0 and rng.random() < MISSED_VISIT:
                summary.missed += 1  # the window passes; the scheduled visit stays open
                continue
            spec = PhantomSpec(
                width=WIDTH,
                height=HEIGHT,
                um_per_px=UM_PER_PX,
                hair_colour=colour,
                seed=seed + patient.pk,
                noise_seed=snapshot.day,
                hairs=_hair_specs(snapshot.hairs, seed=seed + patient.pk),
            )
            later = day + timedelta(days=REIMAGE_AFTER_DAYS)
            pair = None
            if reimaged and snapshot.day in REIMAGE_DAYS and later <= today:
                pair = render_pair(spec, days=float(REIMAGE_AFTER_DAYS))
                first = pair.day0
            else:
                first, _ = render_phantom(spec)
            with clock.frozen(_at(day)):
                visit = imaging.imaging_visit_create(
                    actor=actor,
                    patient=patient,
                    taken_on=day,
                    scheduled_visit=patient.scheduled_visits.filter(
                        kind="follow_up", label=f"Day {snapshot.day}"
                    ).first(),
                )
                day0 = imaging.trichoscopy_upload(
                    actor=actor,
                    visit=visit,
                    target_site=site,
                    device=device,
                    image=SimpleUploadedFile(
                        f"{patient.mrn}-d{snapshot.day}.png", _png(first), "image/png"
                    ),
                )
                summary.images += 1
                for view in PHOTO_VIEWS:
                    imaging.photo_upload(
                        actor=actor,
                        visit=visit,
                        view=view,
                        image=SimpleUploadedFile(
                            f"{patient.mrn}-d{snapshot.day}-{view}.jpg",
                            _photo(
                                view=view,
                                coverage=_coverage(synthetic, snapshot),
                                seed=seed,
                                pk=patient.pk,
                                day=snapshot.day,
                            ),
                            "image/jpeg",
                        ),
                    )
                    summary.photos += 1
                if snapshot.day > 0:
                    visit_report_record(
                        actor=physician, visit=visit, **_report(rng, synthetic, snapshot)
                    )
                    summary.reports += 1
            if pair is not None:
                with clock.frozen(_at(later)):
                    again = imaging.imaging_visit_create(
                        actor=actor,
                        patient=patient,
                        taken_on=later,
                        notes=f"Phototrichogram: re-image of the day-{snapshot.day} site.",
                    )
                    imaging.trichoscopy_upload(
                        actor=actor,
                        visit=again,
                        target_site=site,
                        device=device,
                        image=SimpleUploadedFile(
                            f"{patient.mrn}-d{snapshot.day}-regrowth.png",
                            _png(pair.dayn),
                            "image/png",
                        ),
                        regrowth_of=day0,
                    )
                summary.reimages += 1
    return summary
