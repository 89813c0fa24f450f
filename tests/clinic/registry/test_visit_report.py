"""The follow-up report on the imaging visit page: pull test and the patient's questionnaire by
any clinician, the investigator's global photographic assessment by a physician only (the
service asks the permission; the form only mirrors it), with history."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.imaging import services as imaging
from anagen.clinic.registry.models import VisitReport
from anagen.clinic.registry.services import visit_report_record
from tests.clinic.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(staff, patient):
    return imaging.imaging_visit_create(
        actor=staff[Role.NURSE], patient=patient, taken_on=date.today() - timedelta(days=1)
    )


def _record(actor, visit, **fields):
    answers = {"pull_test_hairs": None, "satisfaction": None, "shedding": None}
    answers.update(fields)
    answers.setdefault("global_assessment", None)
    return visit_report_record(actor=actor, visit=visit, **answers)


def test_a_nurse_records_the_questionnaire_but_not_the_global_assessment(staff, visit):
    nurse = staff[Role.NURSE]
    report = _record(nurse, visit, pull_test_hairs=4, satisfaction=4, shedding=-1)
    assert (report.pull_test_hairs, report.satisfaction, report.shedding) == (4, 4, -1)
    with pytest.raises(PermissionDenied):
        _record(nurse, visit, pull_test_hairs=4, satisfaction=4, shedding=-1, global_assessment=2)
    assert VisitReport.objects.get(visit=visit).global_assessment is None


def test_only_a_physician_sets_or_clears_the_global_assessment(staff, visit, physician):
    nurse = staff[Role.NURSE]
    _record(physician, visit, global_assessment=2)
    # The nurse completes the rest and leaves the physician's score as it is…
    report = _record(nurse, visit, pull_test_hairs=3, global_assessment=2)
    assert (report.pull_test_hairs, report.global_assessment) == (3, 2)
    # …but may neither change nor clear it.
    for value in (None, 3, -3):
        with pytest.raises(PermissionDenied):
            _record(nurse, visit, pull_test_hairs=3, global_assessment=value)
    assert VisitReport.objects.get(visit=visit).global_assessment == 2
    assert VisitReport.objects.get(visit=visit).history.count() == 2


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.AUDITOR, Role.COORDINATOR])
def test_roles_outside_the_clinic_record_nothing(staff, visit, role):
    with pytest.raises(PermissionDenied):
        _record(staff[role], visit, pull_test_hairs=2)


def test_a_physician_flagged_reviewer_of_another_site_is_refused(other_site, visit):
    stranger = make_user(Role.PHYSICIAN, other_site, is_reviewer=True)
    with pytest.raises(PermissionDenied):
        _record(stranger, visit, global_assessment=1)


def test_an_out_of_range_score_is_refused(physician, visit):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        _record(physician, visit, global_assessment=4)
    with pytest.raises(ValidationError):
        _record(physician, visit, pull_test_hairs=61)


def _post(client, visit, **fields):
    data = {
        "report-pull_test_hairs": "",
        "report-satisfaction": "",
        "report-shedding": "",
        "report-global_assessment": "",
    }
    data.update({f"report-{k}": v for k, v in fields.items()})
    return client.post(reverse("imaging:visit", args=[visit.pk]), data)


def test_the_visit_page_form(client, staff, physician, visit):
    nurse = staff[Role.NURSE]
    client.force_login(physician)
    assert _post(client, visit, global_assessment="2", satisfaction="4").status_code == 302
    client.force_login(nurse)
    page = client.get(reverse("imaging:visit", args=[visit.pk])).content.decode()
    assert "Moderately increased (+2)" in page and "Satisfied" in page
    assert "Recorded by a physician." in page  # the nurse's field is read-only
    # A nurse's hostile post of the global score is not taken (the disabled field keeps the
    # physician's value), and the rest of the report is saved.
    response = _post(client, visit, pull_test_hairs="5", satisfaction="4", global_assessment="-3")
    assert response.status_code == 302
    report = VisitReport.objects.get(visit=visit)
    assert (report.pull_test_hairs, report.global_assessment) == (5, 2)
    page = client.get(reverse("imaging:visit", args=[visit.pk])).content.decode()
    assert "5 hairs out of about 60" in page
    # Bad input is shown on the form, nothing saved.
    response = _post(client, visit, pull_test_hairs="75")
    assert response.status_code == 200 and b"60" in response.content
    assert VisitReport.objects.get(visit=visit).pull_test_hairs == 5
