"""Writes of patients: every change goes through here, checked and in one transaction."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from anagen.clinic.accounts.models import Site, User
from anagen.clinic.accounts.policy import Perm, require, require_site_access

from .models import MrnSequence, Patient

MRN_PREFIX = "AN"


def mrn_next() -> str:
    """Issue the next medical record number (call inside a transaction)."""
    sequence, _ = MrnSequence.objects.select_for_update().get_or_create(pk=1)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"{MRN_PREFIX}{sequence.last:07d}"


def _check_site(*, actor: User, site: Site) -> None:
    require_site_access(user=actor, site_id=site.pk)


def _check_birth_date(born: date) -> None:
    today = date.today()
    if born > today:
        raise ValidationError({"date_of_birth": "The date of birth is in the future."})
    if born.year < today.year - 120:
        raise ValidationError({"date_of_birth": "The date of birth is more than 120 years ago."})


@transaction.atomic
def patient_create(*, actor: User, site: Site, **fields) -> Patient:
    require(actor, Perm.PATIENT_REGISTER)
    _check_site(actor=actor, site=site)
    _check_birth_date(fields["date_of_birth"])
    patient = Patient(site=site, created_by=actor, mrn=mrn_next(), **fields)
    patient.full_clean()
    patient.save()
    return patient


@transaction.atomic
def patient_update(*, actor: User, patient: Patient, **fields) -> Patient:
    require(actor, Perm.PATIENT_EDIT)
    _check_site(actor=actor, site=patient.site)
    if "site" in fields:
        _check_site(actor=actor, site=fields["site"])
    if "date_of_birth" in fields:
        _check_birth_date(fields["date_of_birth"])
    for name, value in fields.items():
        setattr(patient, name, value)
    patient.full_clean()
    patient.save()
    return patient
