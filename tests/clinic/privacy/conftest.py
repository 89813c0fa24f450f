"""A patient with something in every place that identifies them, for the data-rights tests."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.base import ContentFile

from anagen.clinic.accounts.roles import Role
from anagen.clinic.imaging import services as imaging
from anagen.clinic.intake.models import InquiryNote
from anagen.clinic.registry.services import outcomes_refresh
from tests.clinic.factories import InquiryFactory, PatientFactory
from tests.clinic.imaging_helpers import imaging_world, phantom_png, plain_png, upload
from tests.clinic.treatment_helpers import consented_plan, make_candidate

GIVEN, FAMILY = "Philippa", "Wrenbury"
PHONE, NEW_PHONE = "+44 7700 900777", "+44 7700 900778"
EMAIL = "philippa.wrenbury@example.test"
BORN = date(1983, 7, 19)
ADDRESS = "12 Larch Row, Tewkesbury"
#: Values that identify the patient; none may remain anywhere after the erasure.
IDENTIFYING = [GIVEN, FAMILY, PHONE, NEW_PHONE, EMAIL, ADDRESS, "1983-07-19", "wrenbury"]


@pytest.fixture
def person(site, staff):
    physician, nurse = staff[Role.PHYSICIAN], staff[Role.NURSE]
    patient = PatientFactory(
        site=site,
        given_name=GIVEN,
        family_name=FAMILY,
        date_of_birth=BORN,
        phone=PHONE,
        email=EMAIL,
        address=ADDRESS,
    )
    patient.photo.save("philippa-wrenbury-id.png", ContentFile(plain_png()), save=False)
    patient.phone = NEW_PHONE  # a second version: the old phone stays in the history
    patient.save()
    inquiry = InquiryFactory(
        full_name=f"{GIVEN} {FAMILY}",
        phone=PHONE,
        email=EMAIL,
        message="Please call me after 5, Philippa",
        preferred_site=site,
        patient=patient,
    )
    InquiryNote.objects.create(
        inquiry=inquiry, author=staff[Role.COORDINATOR], text="Called Philippa Wrenbury back"
    )
    make_candidate(physician, patient)
    plan = consented_plan(physician, nurse, patient)
    world = imaging_world(nurse, patient)
    front = imaging.photo_upload(
        actor=nurse,
        visit=world["visit"],
        view="front",
        image=upload("philippa-wrenbury-front.png", phantom_png(3)),
    )
    named = imaging.trichoscopy_upload(
        actor=nurse,
        visit=world["visit"],
        target_site=world["site"],
        device=world["device"],
        image=upload("wrenbury-vertex.png", phantom_png(4)),
    )
    imaging.trichoscopy_analyse(record=named)
    outcomes_refresh(patient=patient)
    patient.refresh_from_db()
    return {
        **world,
        "patient": patient,
        "inquiry": inquiry,
        "plan": plan,
        "front": front,
        "top": world["photo"],
        "trichoscopy": named,
    }
