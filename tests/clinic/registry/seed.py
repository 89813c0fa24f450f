"""Seeding the outcome table directly (fast): patients with distinctive identifiers and known
measurements, so statistics can be checked against ``anagen.evidence`` and exports grepped."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from anagen.clinic.imaging.models import Device, ImagingVisit, TargetSite, TrichoscopyImage
from anagen.clinic.patients.services import patient_create
from anagen.clinic.registry.models import OutcomeRecord


def seed_patient(
    actor,
    site,
    *,
    n: int,
    densities: dict[int, float],
    sex: str = "female",
    age: int = 40,
    stage: str = "Norwood III",
    protocol: str = "Standard SVF",
    prp: bool = False,
    cells: int = 20_000_000,
    baseline_on: date | None = None,
    zones: tuple[str, ...] = ("vertex",),
    given: str | None = None,
    family: str | None = None,
    satisfaction: dict[int, int] | None = None,
):
    """A patient with one outcome row per (day, zone) in ``densities`` (zone values offset by
    +2 for each further zone, so a visit's mean over zones is the first zone's value + 1 ...)."""
    baseline_on = baseline_on or date(2024, 1, 10)
    patient = patient_create(
        actor=actor,
        site=site,
        given_name=given or f"Zephyrine{n:03d}",
        family_name=family or f"Quaxley{n:03d}",
        date_of_birth=date(baseline_on.year - age, 1, 1),
        sex=sex,
        phone=f"+44 7700 9{n:05d}",
        email=f"zephyrine{n:03d}@registry-seed.test",
        address=f"{n} Marigold Crescent, Lindenfold",
    )
    device = Device.objects.first() or Device.objects.create(name="Scope", um_per_px=6)
    sites = [
        TargetSite.objects.create(patient=patient, zone=zone, description=f"{zone} spot")
        for zone in zones
    ]
    rows = []
    for day, density in densities.items():
        taken = baseline_on + timedelta(days=day)
        visit = ImagingVisit.objects.create(patient=patient, taken_on=taken, created_by=actor)
        for i, target in enumerate(sites):
            image = TrichoscopyImage.objects.create(
                visit=visit,
                target_site=target,
                device=device,
                image="trichoscopy/seed.png",
                uploaded_by=actor,
                status=TrichoscopyImage.Status.ANALYSED,
            )
            value = density + 2 * i
            rows.append(
                OutcomeRecord(
                    patient=patient,
                    site=site,
                    visit=visit,
                    target_site=target,
                    image=image,
                    taken_on=taken,
                    visit_day=day,
                    days_since_first_session=day - 1,
                    window_day=_window(day),
                    density_per_cm2=value,
                    terminal_density_per_cm2=value * 0.7,
                    vellus_density_per_cm2=value * 0.3,
                    density_auto_per_cm2=value,
                    terminal_density_auto_per_cm2=value * 0.7,
                    vellus_density_auto_per_cm2=value * 0.3,
                    mean_diameter_um=55.0 + day / 100,
                    cumulative_thickness_mm_per_cm2=value * 0.05,
                    algorithm_version="seed-1",
                    satisfaction=(satisfaction or {}).get(day),
                    age_years=age,
                    sex=sex,
                    stage=stage,
                    protocol=protocol,
                    method="svf_mechanical",
                    prp=prp and day > 0,
                    sessions_to_date=1 if day > 0 else 0,
                    cells_to_date=cells if day > 0 else 0,
                    zone=target.zone,
                    refreshed_at=timezone.now(),
                )
            )
    OutcomeRecord.objects.bulk_create(rows)
    return patient


def _window(day: int) -> int | None:
    from anagen.clinic.registry.measures import nearest_window

    return nearest_window(day)
