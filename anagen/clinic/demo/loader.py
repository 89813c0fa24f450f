"""The demo clinic: synthetic, clearly fictional, generated from a fixed seed.

Everything is written through the same services the staff pages use, so the demo obeys every
rule (no double-booking, MRNs issued in order, eligibility decided by the engine). Loading is
idempotent: when the demo accounts exist, nothing is generated again.

The clinic's past is entered *as of* each past moment with the clinic clock
(``common.clock.frozen``): the services check a March harvest against March, and its custody
events, signatures and history rows are dated in March, exactly as if entered then.

Signatures and verifications ask the signer's password again, and the demo gives it like anyone
else: every prompt is a real check of the stored hash (about 280 PBKDF2 checks for the default
200 patients, roughly a minute on one core; instant under the test settings' MD5 hasher).
Earlier versions replaced ``User.check_password`` with a plain comparison while loading, which
also switched the check off for every other user of the process. A cheaper hash for the demo
accounts does not help: Django re-hashes a password with the preferred hasher at its first
successful check (``PASSWORD_HASHERS[0]``), so every later prompt would be slow again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from anagen.clinic.accounts.models import Site, User
from anagen.clinic.accounts.roles import Role
from anagen.clinic.assessment.services import assessment_record
from anagen.clinic.common import clock
from anagen.clinic.demo.imaging import VISIT_DAYS, ImagingSummary, image_patients
from anagen.clinic.intake.models import Appointment, Inquiry
from anagen.clinic.intake.services import (
    appointment_book,
    inquiry_add_note,
    inquiry_convert,
    inquiry_submit,
)
from anagen.clinic.patients.models import Patient
from anagen.clinic.patients.services import patient_create
from anagen.clinic.review.services import review_pairs_create
from anagen.clinic.treatment import services as treatment
from anagen.clinic.treatment.defaults import ensure_defaults
from anagen.clinic.treatment.models import (
    DEFAULT_FOLLOW_UP_DAYS,
    DEFAULT_FOLLOW_UP_WINDOWS,
    Harvest,
    ProtocolTemplate,
)
from anagen.eligibility import vocab

SEED = 20261125
DEMO_PASSWORD = "anagen-demo-2026"  # noqa: S105 - printed demo login for synthetic data only
DEMO_DOMAIN = "demo.anagen.test"
DEMO_IMAGED = 24  # treated patients (longest followed first) given imaging series

#: The demo clinic's protocols besides the default one (configured in the admin in a real
#: clinic); treated patients are spread over all three.
DEMO_PROTOCOLS = [
    {
        "name": "SVF enzymatic, 2 sessions",
        "method": "svf_enzymatic",
        "adjuncts": [],
        "target_zones": ["mid_scalp", "vertex"],
        "planned_sessions": 2,
        "interval_weeks": 12,
        "price_min": Decimal("2400"),
        "price_max": Decimal("2900"),
    },
    {
        "name": "SVF mechanical, single session + minoxidil",
        "method": "svf_mechanical",
        "adjuncts": ["minoxidil"],
        "target_zones": ["vertex"],
        "planned_sessions": 1,
        "interval_weeks": 8,
        "price_min": Decimal("1200"),
        "price_max": Decimal("1500"),
    },
]

#: (code, name, time zone, contact details and the currency the site quotes in). Telephone
#: numbers are from the ranges Ofcom and BTK reserve for drama and examples.
SITES = [
    (
        "LDN",
        "Riverside Clinic, London",
        "Europe/London",
        {
            "address": "12 Riverside Walk, London SE1 9XX",
            "phone": "+44 20 7946 0321",
            "email": "london@riverside-clinic.example",
            "currency": "GBP",
        },
    ),
    (
        "MAN",
        "Northgate Clinic, Manchester",
        "Europe/London",
        {
            "address": "4 Northgate Street, Manchester M1 9XX",
            "phone": "+44 161 496 0457",
            "email": "manchester@northgate-clinic.example",
            "currency": "GBP",
        },
    ),
    (
        "IST",
        "Bosphorus Clinic, Istanbul",
        "Europe/Istanbul",
        {
            "address": "Ornek Caddesi 7, 34000 Istanbul",
            "phone": "+90 212 555 0147",
            "email": "istanbul@bosphorus-clinic.example",
            "currency": "EUR",  # quotes to visitors from abroad in euros
        },
    ),
]
#: A site's quote when the protocol's prices are in another currency (demo exchange rates).
DEMO_RATES = {"GBP": Decimal("0.85")}

#: (local part, first, last, role, site codes, all sites)
STAFF = [
    ("physician", "Imogen", "Hartley", Role.PHYSICIAN, ("LDN", "MAN"), False),
    ("physician.ist", "Deniz", "Aksoy", Role.PHYSICIAN, ("IST",), False),
    ("physician.man", "Owain", "Pryce", Role.PHYSICIAN, ("MAN",), False),
    ("nurse", "Priya", "Raman", Role.NURSE, ("LDN",), False),
    ("nurse.ist", "Elif", "Kaya", Role.NURSE, ("IST",), False),
    ("lab", "Tomasz", "Nowak", Role.LAB_TECHNICIAN, ("LDN", "MAN", "IST"), False),
    # A second technician: the one who records results never releases (four-eyes release).
    ("lab.qa", "Ines", "Duarte", Role.LAB_TECHNICIAN, ("LDN", "MAN", "IST"), False),
    ("coordinator", "Grace", "Okafor", Role.COORDINATOR, ("LDN", "MAN"), False),
    ("coordinator.ist", "Selin", "Demir", Role.COORDINATOR, ("IST",), False),
    ("auditor", "Marcus", "Lindqvist", Role.AUDITOR, (), True),
    ("admin", "Hana", "Sato", Role.ADMINISTRATOR, (), True),
    # Reads the registry and takes the de-identified export; sees no chart, name or MRN.
    ("researcher", "Noor", "Haddad", Role.RESEARCHER, (), True),
    # Scores blinded before/after photo pairs at London and Manchester; sees no chart.
    ("reviewer", "Lucia", "Ferrante", Role.REVIEWER, ("LDN", "MAN"), False),
]

GIVEN = {
    "male": [
        "Arlo",
        "Bram",
        "Cedric",
        "Dorian",
        "Emrys",
        "Felix",
        "Gideon",
        "Hugo",
        "Ivo",
        "Jasper",
        "Kenan",
        "Leander",
        "Milo",
        "Nico",
        "Orrin",
        "Piers",
        "Rafe",
        "Silas",
        "Tobin",
        "Umar",
        "Viggo",
        "Wren",
        "Yusuf",
        "Zane",
    ],
    "female": [
        "Aria",
        "Blythe",
        "Clio",
        "Delphine",
        "Esme",
        "Freya",
        "Greta",
        "Hesper",
        "Iona",
        "Juno",
        "Kira",
        "Liora",
        "Maren",
        "Nell",
        "Odile",
        "Pia",
        "Rhea",
        "Saoirse",
        "Tamsin",
        "Una",
        "Vesna",
        "Willa",
        "Ysolde",
        "Zora",
    ],
}
FAMILY = [
    "Ashdown",
    "Brackwater",
    "Coldharbour",
    "Dunmore",
    "Elderfield",
    "Fernhollow",
    "Glenrothe",
    "Hazelmere",
    "Ivybridge",
    "Juniper",
    "Kestrelby",
    "Larkspur",
    "Mossgiel",
    "Nettlecombe",
    "Oakhanger",
    "Pennycress",
    "Quarrendon",
    "Rookwood",
    "Sorrelby",
    "Thistlewood",
    "Underhill",
    "Valemont",
    "Willowmere",
    "Yarrowdale",
]


@dataclass
class DemoSummary:
    created: bool
    patients: int
    inquiries: int
    appointments: int
    assessments: int
    sessions: int = 0
    images: int = 0
    imaging: ImagingSummary | None = None


def _protocols(default: ProtocolTemplate) -> list[ProtocolTemplate]:
    protocols = [default]
    for fields in DEMO_PROTOCOLS:
        fields = dict(fields)
        name = fields.pop("name")
        protocols.append(
            ProtocolTemplate.objects.get_or_create(
                name=name,
                defaults={
                    **fields,
                    "follow_up_days": DEFAULT_FOLLOW_UP_DAYS,
                    "follow_up_window_days": DEFAULT_FOLLOW_UP_WINDOWS,
                    "planned_dose_cells": 5_000_000,
                    "min_viable_fraction": Decimal("0.700"),
                    "currency": "EUR",
                },
            )[0]
        )
    return protocols


def _treat(rng: random.Random, *, patient, assessment, users, protocol, consent_text, today) -> int:
    """Plan, consent, harvest, lab release and sessions for one candidate, in the past."""
    physician = assessment.assessed_by
    site_staff = [u for u in users.values() if u.sites.filter(pk=patient.site_id).exists()]
    witness = next((u for u in site_staff if u.role == Role.NURSE), None) or next(
        u for u in site_staff if u.role == Role.PHYSICIAN and u != physician
    )
    lab, releaser = users["lab"], users["lab.qa"]
    start = timezone.localtime(assessment.assessed_at)
    with clock.frozen(start + timedelta(days=1)):
        plan = treatment.plan_create(
            actor=physician, patient=patient, protocol=protocol, **_quote(protocol, patient.site)
        )
    with clock.frozen(start + timedelta(days=3)):
        treatment.consent_sign(
            actor=witness,
            plan=plan,
            consent_text=consent_text,
            signer_name=patient.full_name,
            agrees=True,
        )
    sessions = 0
    day = (start + timedelta(days=14)).replace(hour=9, minute=0)
    while sessions < plan.planned_sessions and day.date() < today:
        with clock.frozen(day):
            harvest = treatment.harvest_record(
                actor=physician,
                plan=plan,
                performed_at=day,
                site=rng.choice(["periumbilical", "periumbilical", "thigh", "hip", "flank"]),
                cannula_or_punch_mm=Decimal("2.0"),
                volume_ml=Decimal(rng.randint(12, 30)),
                sterile_checklist={key: True for key, _ in Harvest.STERILE_CHECKLIST},
            )
        product = harvest.products.get()
        viable = Decimal(f"{rng.uniform(0.62, 0.95):.3f}")
        cells = rng.randint(4_000_000, 14_000_000)
        with clock.frozen(day + timedelta(hours=2)):
            treatment.product_record_results(
                actor=lab,
                product=product,
                processing_ended_at=day + timedelta(hours=2),
                total_nucleated_cells=int(cells / float(viable)),
                viable_fraction=viable,
                viable_cells=cells,
                volume_ml=Decimal("4.0"),
                qc_sterility="pending",
                qc_endotoxin="pass",
            )
            try:
                treatment.product_release(actor=releaser, product=product, password=DEMO_PASSWORD)
            except ValidationError:  # low viability or dose: discarded, as in a real lab
                treatment.product_discard(actor=lab, product=product, reason="Failed release gates")
                day += timedelta(days=7)
                continue
        zones = list(plan.target_zones)
        per_zone = max(1, (cells // 2) // (len(zones) * 40))
        # The map must fit in the product's 4 mL: 40 points per zone, in 5 µL steps.
        per_point_ml = min(
            Decimal("0.05"),
            (Decimal("4.0") / (40 * len(zones))).quantize(Decimal("0.005"), rounding="ROUND_DOWN"),
        )
        with clock.frozen(day + timedelta(hours=4, minutes=15)):
            session = treatment.session_administer(
                actor=physician,
                plan=plan,
                scanned_product_code=product.product_code,
                scanned_mrn=patient.mrn,
                verifier=witness,
                verifier_password=DEMO_PASSWORD,
                zones=[
                    {
                        "zone": z,
                        "points": 40,
                        "volume_per_point_ml": per_point_ml,
                        "cells_per_point": min(per_zone, 150_000),
                    }
                    for z in zones
                ],
                started_at=day + timedelta(hours=3),
                ended_at=day + timedelta(hours=4, minutes=10),
                submission_token=f"demo-{product.product_code}",
                adjuncts=list(plan.adjuncts),
            )
        sessions += 1
        if rng.random() < 0.3:
            onset = timezone.localtime(session.started_at).date() + timedelta(days=1)
            with clock.frozen(day + timedelta(days=2)):
                treatment.adverse_event_report(
                    actor=witness,
                    patient=patient,
                    harvest=harvest,
                    session=None,
                    type=rng.choice(["bruising", "bruising", "pain", "swelling"]),
                    site="harvest",
                    grade=1,
                    onset_on=onset,
                    resolved_on=onset + timedelta(days=rng.randint(5, 13)),
                    relatedness="definite",
                    action_taken="Reassurance; cold compress",
                )
        day += timedelta(weeks=plan.interval_weeks)
    return sessions


def _attend_follow_ups(rng: random.Random, *, patient, today, imaged: bool) -> None:
    """Follow-ups whose window has closed were attended, except a few left overdue for the list.

    An imaged patient's imaging visits mark their own follow-ups (a skipped one stays missed).
    """
    visits = patient.scheduled_visits.filter(kind="follow_up", window_end__lt=today)
    if imaged:
        visits = visits.exclude(label__in=[f"Day {d}" for d in VISIT_DAYS])
    for visit in visits.filter(completed=False):
        if rng.random() < 0.85:
            visit.completed = True
            visit.save(update_fields=["completed"])


def _quote(protocol, site) -> dict:
    """The protocol's price range in the site's currency (rounded to 50), when they differ."""
    if protocol.currency == site.currency:
        return {}
    rate = DEMO_RATES[site.currency]
    return {
        name: (getattr(protocol, name) * rate / 50).quantize(Decimal(1)) * 50
        for name in ("price_min", "price_max")
    }


def _first_session_day(patient):
    first = patient.sessions.order_by("started_at").first()
    return timezone.localtime(first.started_at).date() if first else None


def demo_logins() -> list[tuple[str, str, str]]:
    return [
        (f"{local}@{DEMO_DOMAIN}", Role(role).label, ", ".join(codes) or "all sites")
        for local, _, _, role, codes, _ in STAFF
    ]


def _staff(sites: dict[str, Site]) -> dict[str, User]:
    # One hash for the one published password (PBKDF2 takes ~0.25 s per hash), stored on every
    # demo account; each account's password is still checked the ordinary way at every prompt.
    password_hash = make_password(DEMO_PASSWORD)
    users = {}
    for local, first, last, role, codes, all_sites in STAFF:
        email = f"{local}@{DEMO_DOMAIN}"
        user = User.objects.create(
            username=email,
            email=email,
            password=password_hash,
            first_name=first,
            last_name=last,
            role=role,
            all_sites=all_sites,
            is_staff=(role == Role.ADMINISTRATOR),
            is_superuser=(role == Role.ADMINISTRATOR),
        )
        user.sites.set([sites[c] for c in codes])
        users[local] = user
    return users


class _Calendar:
    """Hands out free 45-minute consult slots per clinician, weekdays 09:00-17:00."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def book(self, *, actor, patient, clinicians, day: date, kind=Appointment.Kind.CONSULT):
        # A day in the past moves further back (weekend, full day), never forward into today or
        # the future: its visit is recorded as done, whatever weekday the demo is loaded on.
        step = -1 if day < clock.localdate() else 1
        for _ in range(40):
            clinician = self.rng.choice(clinicians)
            while day.weekday() >= 5:
                day += timedelta(days=step)
            start = timezone.make_aware(
                datetime.combine(day, time(9, 0)) + timedelta(minutes=45 * self.rng.randrange(10))
            )
            try:
                return appointment_book(
                    actor=actor,
                    patient=patient,
                    kind=kind,
                    starts_at=start,
                    clinician=clinician,
                    # The demo's past visits are entered afterwards, like a clinic's paper backlog.
                    back_entry_reason="Demo history" if start < clock.now() else "",
                )
            except ValidationError:
                day += timedelta(days=step * self.rng.choice((0, 1)))
        raise RuntimeError("demo calendar is full")


def _assessment_fields(rng: random.Random, sex: str, age: int) -> dict:
    male = sex == "male"
    severity = rng.choices(["early", "moderate", "advanced"], weights=[4, 4, 2])[0]
    fields: dict = {
        "onset_age_years": max(18, age - rng.randint(1, 12)),
        "loss_duration_months": rng.randint(4, 30)
        if severity != "advanced"
        else rng.randint(60, 200),
        "pattern": rng.choices(["thinning", "shedding", "mixed"], weights=[6, 2, 2])[0],
        "family_history": rng.choice(["paternal", "maternal", "both", "none", "unknown"]),
        "pull_test": rng.choice(["negative", "negative", "positive", "not_done"]),
        "triggers": [],
        "drugs": [],
        "contraindications": [],
        "trichoscopy_findings": ["miniaturization", "hair_diameter_diversity"],
        "ferritin": Decimal(f"{rng.uniform(20, 160):.1f}"),
        "tsh": Decimal(f"{rng.uniform(0.6, 3.8):.2f}"),
        "vitamin_d": Decimal(f"{rng.uniform(35, 110):.1f}"),
        "haemoglobin": Decimal(
            f"{rng.uniform(12.6, 16.5) if male else rng.uniform(11.6, 15.0):.1f}"
        ),
    }
    if male:
        fields["norwood"] = {
            "early": rng.choice(["II", "IIa", "III"]),
            "moderate": rng.choice(["III-vertex", "IV", "IVa", "V"]),
            "advanced": rng.choice(["VI", "VII"]),
        }[severity]
    else:
        fields["ludwig"] = {"early": "I", "moderate": "II", "advanced": "III"}[severity]
        fields["sinclair"] = {"early": 2, "moderate": rng.choice([3, 4]), "advanced": 5}[severity]
    if rng.random() < 0.12:
        fields["triggers"] = [rng.choice(vocab.TRIGGERS)]
    if rng.random() < 0.05:
        fields["contraindications"] = [rng.choice(vocab.CONTRAINDICATIONS)]
    if rng.random() < 0.04:
        fields["drugs"] = [rng.choice(vocab.DRUGS)]
    return fields


def load_demo(*, n_patients: int = 200, seed: int = SEED) -> DemoSummary:
    if User.objects.filter(email=f"physician@{DEMO_DOMAIN}").exists():
        return DemoSummary(False, 0, 0, 0, 0)
    with transaction.atomic():
        return _generate(n_patients=n_patients, seed=seed)


def _generate(*, n_patients: int, seed: int) -> DemoSummary:
    rng = random.Random(seed)
    sites = {
        code: Site.objects.get_or_create(
            code=code, defaults={"name": name, "timezone": tz, **contact}
        )[0]
        for code, name, tz, contact in SITES
    }
    users = _staff(sites)
    admin = users["admin"]
    physicians = {
        code: [
            u
            for u in users.values()
            if u.role == Role.PHYSICIAN and u.sites.filter(code=code).exists()
        ]
        for code in sites
    }
    calendar = _Calendar(rng)
    today = clock.localdate()
    n_inquiries = n_assessments = n_sessions = 0
    protocol, consent_text = ensure_defaults()
    protocols = _protocols(protocol)
    n_treated = 0

    # Inquiries: some still in the queue, some converted through the coordinator's own path.
    for i in range(45):
        sex = rng.choice(["male", "male", "female"])
        site = rng.choice(list(sites.values()))
        inquiry = inquiry_submit(
            full_name=f"{rng.choice(GIVEN[sex])} {rng.choice(FAMILY)}",
            phone=f"+44 7700 9{rng.randrange(10**5):05d}",
            email=f"inquiry{i}@example.test",
            preferred_site=site,
            preferred_time=rng.choice(["mornings", "after 5 pm", "any time", ""]),
            message=rng.choice(
                [
                    "Thinning at the crown for two years.",
                    "Is this suitable after a transplant?",
                    "",
                    "Shedding since spring.",
                ]
            ),
        )
        n_inquiries += 1
        if i % 3 == 0:
            continue  # stays new
        inquiry_add_note(
            actor=admin, inquiry=inquiry, text="Called back; explained the consultation."
        )
        if i % 3 == 1 and i % 2 == 0:
            inquiry_convert(
                actor=admin,
                inquiry=inquiry,
                patient_fields={
                    "given_name": inquiry.full_name.split()[0],
                    "family_name": inquiry.full_name.split()[1],
                    "date_of_birth": date(
                        rng.randint(1962, 2002), rng.randint(1, 12), rng.randint(1, 28)
                    ),
                    "sex": sex,
                    "phone": inquiry.phone,
                    "email": inquiry.email,
                },
                consult_starts_at=timezone.make_aware(
                    datetime.combine(today + timedelta(days=rng.randint(1, 10)), time(8, 0))
                    + timedelta(minutes=15 * rng.randrange(4))
                ),
                clinician=rng.choice(physicians[site.code]),
                site=site,
                confirm_not_duplicate=True,  # random synthetic names and numbers may repeat
            )
        elif rng.random() < 0.3:
            inquiry.status = Inquiry.Status.CLOSED
            inquiry.save(update_fields=["status"])

    # Patients across stages: consult done and assessed, consult today or upcoming.
    for _ in range(n_patients):
        sex = rng.choices(["male", "female"], weights=[65, 35])[0]
        site = rng.choices(list(sites.values()), weights=[5, 3, 2])[0]
        born = date(rng.randint(1960, 2003), rng.randint(1, 12), rng.randint(1, 28))
        patient = patient_create(
            actor=admin,
            site=site,
            given_name=rng.choice(GIVEN[sex]),
            family_name=rng.choice(FAMILY),
            date_of_birth=born,
            sex=sex,
            phone=f"+44 7700 9{rng.randrange(10**5):05d}",
            email=f"patient{rng.randrange(10**6):06d}@example.test",
            confirm_not_duplicate=True,  # random synthetic names and numbers may repeat
        )
        stage = rng.choices(["assessed", "today", "upcoming"], weights=[70, 8, 22])[0]
        offset = {"assessed": -rng.randint(1, 320), "today": 0, "upcoming": rng.randint(1, 21)}[
            stage
        ]
        appointment = calendar.book(
            actor=admin,
            patient=patient,
            clinicians=physicians[site.code],
            day=today + timedelta(days=offset),
        )
        if stage != "assessed":
            continue
        appointment.status = Appointment.Status.COMPLETED
        appointment.save(update_fields=["status"])
        assessment = assessment_record(
            actor=appointment.clinician,
            patient=patient,
            assessed_at=appointment.starts_at + timedelta(minutes=30),
            **_assessment_fields(rng, sex, patient.age_on(today)),
        )
        n_assessments += 1
        recent = timezone.localtime(assessment.assessed_at).date() > today - timedelta(days=16)
        if assessment.decision.final_outcome == "candidate" and not recent and rng.random() < 0.6:
            n_sessions += _treat(
                rng,
                patient=patient,
                assessment=assessment,
                users=users,
                protocol=protocols[n_treated % len(protocols)],
                consent_text=consent_text,
                today=today,
            )
            n_treated += 1
        if rng.random() < 0.5:  # a follow-up visit booked ahead
            calendar.book(
                actor=admin,
                patient=patient,
                clinicians=physicians[site.code],
                day=today + timedelta(days=rng.randint(0, 28)),
                kind=Appointment.Kind.FOLLOW_UP,
            )
    # Imaging for the treated patients followed longest, from the follicle model (demo/imaging).
    first_days = sorted(
        (_first_session_day(patient), patient.pk, patient)
        for patient in Patient.objects.filter(sessions__session_number=1)
    )
    treated = [(patient, day) for day, _, patient in first_days[:DEMO_IMAGED]]
    imaged = image_patients(
        treated=treated,
        actor_for=lambda p: p.sessions.order_by("started_at").first().verified_by,
        physician_for=lambda p: p.plans.order_by("created_at").first().created_by,
        seed=seed,
        today=today,
    )
    attend = random.Random(seed + 1)
    imaged_ids = {patient.pk for patient, _ in treated}
    for _, pk, patient in first_days:
        _attend_follow_ups(attend, patient=patient, today=today, imaged=pk in imaged_ids)
    # Every baseline/later photo pair of the same view is offered for blinded review, by a
    # physician of each site (as the button on the visit page does).
    for code in sites:
        review_pairs_create(actor=physicians[code][0])
    return DemoSummary(
        True,
        n_patients,
        n_inquiries,
        Appointment.objects.count(),
        n_assessments,
        n_sessions,
        imaged.images + imaged.reimages,
        imaged,
    )
