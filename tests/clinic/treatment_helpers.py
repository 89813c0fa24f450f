"""Builders for the treatment pathway, shared by the treatment tests.

Every clinical step here (consent, harvest, QC results, four-eyes release, session) goes through
the treatment services, so custody, signatures and the product state machine are the real ones;
plain rows (staff, patients, plans' prerequisites) come from ``tests/clinic/factories.py``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.roles import Role
from anagen.clinic.assessment.services import assessment_record
from anagen.clinic.treatment import services
from anagen.clinic.treatment.defaults import ensure_defaults
from anagen.clinic.treatment.models import CellProduct, Consent, Harvest

from .factories import PASSWORD, AssessmentFactory, TreatmentPlanFactory, UserFactory

CHECKLIST = {key: True for key, _ in Harvest.STERILE_CHECKLIST}


def make_candidate(physician, patient):
    """An assessment whose engine decision is *candidate* (early pattern loss, normal labs)."""
    assessment = AssessmentFactory(actor=physician, patient=patient)
    assert assessment.decision.final_outcome == "candidate"
    return assessment


def second_lab_technician(lab: User) -> User:
    """Another lab technician at the same sites: the four-eyes releaser."""
    email = f"qa-{lab.email}"
    return User.objects.filter(email=email).first() or UserFactory.at(
        Role.LAB_TECHNICIAN, *lab.sites.all(), email=email, username=email
    )


def consented_plan(physician, nurse, patient):
    """A plan from the default protocol with the patient's consent signed (yesterday)."""
    _, text = ensure_defaults()
    plan = TreatmentPlanFactory(actor=physician, patient=patient)
    consent = services.consent_sign(
        actor=nurse, plan=plan, consent_text=text, signer_name=patient.full_name, agrees=True
    )
    # The tests' timelines start the day before (a harvest two hours ago must follow the consent).
    Consent.objects.filter(pk=consent.pk).update(signed_at=timezone.now() - timedelta(days=1))
    return plan


def harvest(physician, plan, **overrides):
    fields = {
        "performed_at": timezone.now() - timedelta(hours=2),
        "site": "periumbilical",
        "cannula_or_punch_mm": Decimal("2.0"),
        "volume_ml": Decimal("20"),
        "sterile_checklist": CHECKLIST,
    }
    fields.update(overrides)
    return services.harvest_record(actor=physician, plan=plan, **fields)


def released_product(physician, lab, plan, *, cells=8_000_000, viability="0.85"):
    product = harvest(physician, plan).products.get()
    services.product_record_results(
        actor=lab,
        product=product,
        processing_ended_at=timezone.now() - timedelta(minutes=30),
        total_nucleated_cells=int(cells / float(viability)) + 1,
        viable_fraction=Decimal(viability),
        viable_cells=cells,
        volume_ml=Decimal("4"),
        qc_sterility="pending",
        qc_endotoxin="pass",
    )
    return services.product_release(
        actor=second_lab_technician(lab), product=product, password=PASSWORD
    )


def administer(physician, nurse, plan, product, **overrides):
    fields = {
        "scanned_product_code": product.product_code,
        "scanned_mrn": plan.patient.mrn,
        "verifier": nurse,
        "verifier_password": PASSWORD,
        "zones": [
            {
                "zone": "vertex",
                "points": 40,
                "volume_per_point_ml": "0.05",
                "cells_per_point": 100_000,
            }
        ],
        "started_at": timezone.now() - timedelta(minutes=1),
        "ended_at": timezone.now(),
        "submission_token": uuid.uuid4().hex,
    }
    fields.update(overrides)
    return services.session_administer(actor=physician, plan=plan, **fields)


def assess(physician, patient, **fields):
    """An assessment with a thinning pattern at Norwood III unless ``fields`` say otherwise."""
    fields.setdefault("pattern", "thinning")
    fields.setdefault("norwood", "III")
    return assessment_record(actor=physician, patient=patient, **fields)


def injection_map(points: int, ml: str, cells: int) -> list[dict]:
    """One vertex row of an injection map."""
    return [
        {"zone": "vertex", "points": points, "volume_per_point_ml": ml, "cells_per_point": cells}
    ]


def release_with_volume(physician, lab, plan, *, volume: str, cells: int) -> CellProduct:
    """Harvest and release a product of exactly ``volume`` mL holding ``cells`` viable cells."""
    product = harvest(physician, plan).products.get()
    services.product_record_results(
        actor=lab,
        product=product,
        processing_ended_at=timezone.now() - timedelta(minutes=30),
        total_nucleated_cells=cells + cells // 5,
        viable_fraction=Decimal("0.85"),
        viable_cells=cells,
        volume_ml=Decimal(volume),
        qc_sterility="pass",
        qc_endotoxin="pass",
    )
    return services.product_release(
        actor=second_lab_technician(lab), product=product, password=PASSWORD
    )
