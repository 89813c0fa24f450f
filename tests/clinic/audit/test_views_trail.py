import pytest
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.patients.services import patient_update
from tests.clinic.treatment_helpers import administer, consented_plan, released_product

pytestmark = pytest.mark.django_db


def test_auditor_sees_every_version_and_signature(client, staff, patient):
    physician, nurse, lab = staff[Role.PHYSICIAN], staff[Role.NURSE], staff[Role.LAB_TECHNICIAN]
    patient_update(actor=staff[Role.COORDINATOR], patient=patient, phone="+44 7700 900999")
    plan = consented_plan(physician, nurse, patient)
    administer(physician, nurse, plan, released_product(physician, lab, plan))
    client.force_login(staff[Role.AUDITOR])
    page = client.get(reverse("audit:patient", args=[patient.pk])).content.decode()
    assert "+44 20 7946 0000 → +44 7700 900999" in page  # the earlier value is kept
    assert "e-signature: Released" in page and "e-signature: Second-person verification" in page
    assert "custody: status change" in page and "Released → Administered" in page
    assert "Consent #" in page and "Treatment plan #" in page
