"""One of every clinic record, and the URL of every clinic page for it.

Shared by the access matrix (``accounts/test_access.py``) and the browser walk of every page
(``tests/browser/test_every_page.py``): a new page gets its URL here once.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from anagen.clinic.accounts.policy import GUARDED_NAMESPACES
from anagen.clinic.accounts.roles import Role
from anagen.clinic.assessment.services import assessment_record
from anagen.clinic.imaging import services as imaging_services
from anagen.clinic.intake.models import Appointment
from anagen.clinic.intake.services import appointment_book, inquiry_submit
from anagen.clinic.progress.models import ProgressSnapshot
from anagen.clinic.review.models import ReviewPair
from anagen.clinic.review.services import review_pairs_create
from tests.clinic.factories import PatientFactory, SiteFactory, staff_at, tomorrow_at
from tests.clinic.imaging_helpers import imaging_world, phantom_png, plain_png, upload
from tests.clinic.treatment_helpers import administer, consented_plan, released_product


def clinic_url_names() -> list[str]:
    names = []

    def walk(patterns, namespace=None):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, p.namespace or namespace)
            elif isinstance(p, URLPattern) and p.name and namespace in GUARDED_NAMESPACES:
                names.append(f"{namespace}:{p.name}")

    walk(get_resolver().url_patterns)
    return sorted(set(names))


def build_world() -> dict:
    """Staff of every role at one site (LDN), a patient and one of every record, through the
    services: ``{"staff": {role: user}, "objects": {name: record}}``."""
    site = SiteFactory(code="LDN")
    staff = staff_at(site)
    physician, nurse = staff[Role.PHYSICIAN], staff[Role.NURSE]
    patient = PatientFactory(site=site, created_by=staff[Role.COORDINATOR])
    inquiry = inquiry_submit(
        full_name="Rhea Larkspur", phone="+44 7700 900123", preferred_site=site
    )
    appointment = appointment_book(
        actor=physician,
        patient=patient,
        kind=Appointment.Kind.CONSULT,
        starts_at=tomorrow_at(10),
        clinician=physician,
    )
    patient.photo.save("face.png", ContentFile(plain_png()), save=True)
    assessment = assessment_record(
        actor=physician, patient=patient, pattern="thinning", norwood="III"
    )
    plan = consented_plan(physician, nurse, patient)
    product = released_product(physician, staff[Role.LAB_TECHNICIAN], plan)
    session = administer(physician, nurse, plan, product)
    imaging = imaging_world(physician, patient)
    # A stored progress plot (the job's output), so the plot URL has something to serve.
    ProgressSnapshot.objects.update_or_create(
        target_site=imaging["site"],
        defaults={"patient": patient, "plot_png": plain_png(), "fingerprint": "x"},
    )
    # An earlier visit with the same view: one before/after pair for blinded review.
    baseline = imaging_services.imaging_visit_create(
        actor=physician,
        patient=patient,
        taken_on=imaging["visit"].taken_on - timedelta(days=90),
    )
    imaging_services.photo_upload(
        actor=physician, visit=baseline, view="top", image=upload("b.png", phantom_png(2))
    )
    review_pairs_create(actor=physician, patient=patient)
    objects = {
        "pair": ReviewPair.objects.get(patient=patient),
        **imaging,
        "patient": patient,
        "inquiry": inquiry,
        "appointment": appointment,
        "assessment": assessment,
        "plan": plan,
        "consent": plan.consents.get(),
        "product": product,
        "session": session,
        "scheduled_visit": session.plan.scheduled_visits.order_by("due_on").first(),
    }
    return {"staff": staff, "objects": objects}


def url_for(name: str, objects) -> str:
    kwargs = {}
    pattern_kwargs = {
        "patients": {"pk": objects["patient"].pk},
        "audit": {"pk": objects["patient"].pk},
        "intake:inquiry": {"pk": objects["inquiry"].pk},
        "intake:convert": {"pk": objects["inquiry"].pk},
        "intake:appointment_status": {"pk": objects["appointment"].pk},
        "intake:appointment_new": {"patient_pk": objects["patient"].pk},
        "assessment:new": {"patient_pk": objects["patient"].pk},
        "assessment": {"pk": objects["assessment"].pk},
        "treatment:plan_new": {"patient_pk": objects["patient"].pk},
        "treatment:adverse_event_new": {"patient_pk": objects["patient"].pk},
        "treatment:plan": {"pk": objects["plan"].pk},
        "treatment:consent_sign": {"pk": objects["plan"].pk},
        "treatment:harvest_new": {"pk": objects["plan"].pk},
        "treatment:session_new": {"pk": objects["plan"].pk},
        "treatment:consent_pdf": {"pk": objects["consent"].pk},
        "treatment:consent_withdraw": {"pk": objects["consent"].pk},
        "treatment:session": {"pk": objects["session"].pk},
        "treatment:follow_up_book": {"pk": objects["scheduled_visit"].pk},
        "treatment:aftercare_pdf": {"pk": objects["session"].pk},
        "treatment": {"pk": objects["product"].pk},  # product pages and labels
        "imaging:visit": {"pk": objects["visit"].pk},
        "imaging:trichoscopy": {"pk": objects["trichoscopy"].pk},
        "imaging:trichoscopy_retry": {"pk": objects["trichoscopy"].pk},
        "imaging:trichoscopy_file": {"pk": objects["trichoscopy"].pk, "kind": "overlay"},
        "imaging:photo_file": {"pk": objects["photo"].pk},
        "progress:plot": {
            "patient_pk": objects["patient"].pk,
            "site_pk": objects["site"].pk,
        },
        "imaging": {"patient_pk": objects["patient"].pk},
        "progress": {"patient_pk": objects["patient"].pk},
        "registry:expect": {"patient_pk": objects["patient"].pk},
        "registry:export_file": {"kind": "csv"},
        "privacy": {"pk": objects["patient"].pk},
        "review:pair": {"token": objects["pair"].token},
        "review:pair_image": {"token": objects["pair"].token, "side": "left"},
    }
    for key in (name, name.split(":")[0]):
        if key in pattern_kwargs:
            kwargs = pattern_kwargs[key]
            break
    try:
        return reverse(name)
    except Exception:
        return reverse(name, kwargs=kwargs)
