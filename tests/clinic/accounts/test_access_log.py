"""Access refusals are logged as one event each: who (id, role) and what, never whose record."""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.patients.services import patient_update
from tests.clinic.conftest import make_user

pytestmark = pytest.mark.django_db

#: Every attribute a LogRecord carries by itself; anything else came from ``extra``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _refusals(caplog):
    return [r for r in caplog.records if r.name == "anagen.access"]


def _assert_no_phi(record, patient):
    text = " ".join(
        [record.getMessage()] + [f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD]
    ).lower()
    for value in (
        patient.given_name,
        patient.family_name,
        patient.full_name,
        patient.mrn,
        patient.email,
        patient.phone,
    ):
        assert value and value.lower() not in text


def test_refused_page_logs_one_event_without_patient_details(client, staff, patient, caplog):
    lab = staff[Role.LAB_TECHNICIAN]  # no imaging access
    client.force_login(lab)
    with caplog.at_level(logging.INFO, logger="anagen.access"):
        response = client.get(reverse("progress:patient", args=[patient.pk]))
    assert response.status_code == 403
    [record] = _refusals(caplog)
    assert record.levelno == logging.WARNING and record.getMessage() == "access refused"
    assert (record.user_id, record.role, record.action) == (
        lab.pk,
        Role.LAB_TECHNICIAN,
        "GET progress:patient",
    )
    _assert_no_phi(record, patient)


def test_refused_service_call_logs_one_event_without_patient_details(staff, patient, caplog):
    lab = staff[Role.LAB_TECHNICIAN]  # may not edit patients
    with caplog.at_level(logging.INFO, logger="anagen.access"), pytest.raises(PermissionDenied):
        patient_update(actor=lab, patient=patient, phone="+44 7700 900111")
    [record] = _refusals(caplog)
    assert (record.user_id, record.role, record.action) == (
        lab.pk,
        Role.LAB_TECHNICIAN,
        "patient_edit",
    )
    _assert_no_phi(record, patient)


def test_refused_other_site_logs_the_site_id_only(patient, other_site, caplog):
    stranger = make_user(Role.COORDINATOR, other_site)  # right role, wrong site
    with caplog.at_level(logging.INFO, logger="anagen.access"), pytest.raises(PermissionDenied):
        patient_update(actor=stranger, patient=patient, phone="+44 7700 900111")
    [record] = _refusals(caplog)
    assert (record.user_id, record.role, record.action) == (
        stranger.pk,
        Role.COORDINATOR,
        f"site:{patient.site_id}",
    )
    _assert_no_phi(record, patient)
