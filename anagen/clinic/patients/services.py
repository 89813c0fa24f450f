"""Writes of patients: every change goes through here, checked and in one transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction

from anagen.clinic.accounts.access import require_site_access
from anagen.clinic.accounts.models import Site, User
from anagen.clinic.accounts.policy import Perm, require

from .error_codes import PatientErrorCode as Code
from .error_codes import refusal
from .models import MrnSequence, Patient
from .selectors import possible_duplicates

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
        raise refusal("The date of birth is in the future.", Code.DATE_OF_BIRTH, "date_of_birth")
    if born.year < today.year - 120:
        raise refusal(
            "The date of birth is more than 120 years ago.", Code.DATE_OF_BIRTH, "date_of_birth"
        )


class PossibleDuplicate(ValidationError):
    """The person being registered may already be a patient somewhere in the network.

    ``matches`` holds the patients found (any site). The message names none of them: the page
    shows each match only as far as the member of staff may see its site.
    """

    code = Code.POSSIBLE_DUPLICATE

    def __init__(self, matches: list[Patient]):
        self.matches = matches
        count = len(matches)
        super().__init__(
            f"This person may already be registered ({count} possible match"
            f"{'es' if count != 1 else ''}). Check the match{'es' if count != 1 else ''} and "
            "confirm that this is a different person, or open the existing chart.",
            code=self.code,
        )


class _Unchanged:
    """Default of ``patient_update``'s fields: the field is left as it is."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Any = _Unchanged()


@transaction.atomic
def patient_create(
    *,
    actor: User,
    site: Site,
    given_name: str,
    family_name: str,
    date_of_birth: date,
    sex: str,
    phone: str = "",
    email: str = "",
    address: str = "",
    photo: File[bytes] | None = None,
    confirm_not_duplicate: bool = False,
) -> Patient:
    """Register a patient at ``site``; the MRN and the author are set here, never by callers.

    Refuses with ``PossibleDuplicate`` when the same person seems registered already (anywhere
    in the network) unless the member of staff has confirmed it is a different person.
    """
    require(actor, Perm.PATIENT_REGISTER)
    _check_site(actor=actor, site=site)
    _check_birth_date(date_of_birth)
    if not confirm_not_duplicate:
        matches = list(
            possible_duplicates(
                given_name=given_name,
                family_name=family_name,
                date_of_birth=date_of_birth,
                phone=phone,
                email=email,
            )
        )
        if matches:
            raise PossibleDuplicate(matches)
    patient = Patient(
        site=site,
        created_by=actor,
        mrn=mrn_next(),
        given_name=given_name,
        family_name=family_name,
        date_of_birth=date_of_birth,
        sex=sex,
        phone=phone,
        email=email,
        address=address,
    )
    if photo:
        patient.photo = photo
    patient.full_clean()
    patient.save()
    return patient


@transaction.atomic
def patient_update(
    *,
    actor: User,
    patient: Patient,
    site: Site = UNCHANGED,
    given_name: str = UNCHANGED,
    family_name: str = UNCHANGED,
    date_of_birth: date = UNCHANGED,
    sex: str = UNCHANGED,
    phone: str = UNCHANGED,
    email: str = UNCHANGED,
    address: str = UNCHANGED,
    photo: File[bytes] | None = UNCHANGED,
) -> Patient:
    """Change a patient's editable details; fields not passed stay as they are.

    The MRN, the author and the creation time are not parameters: nothing can rewrite them
    (the identity checks at administration compare the MRN).
    """
    require(actor, Perm.PATIENT_EDIT)
    _check_site(actor=actor, site=patient.site)
    if site is not UNCHANGED:
        _check_site(actor=actor, site=site)
    if date_of_birth is not UNCHANGED:
        _check_birth_date(date_of_birth)
    changes = {
        "site": site,
        "given_name": given_name,
        "family_name": family_name,
        "date_of_birth": date_of_birth,
        "sex": sex,
        "phone": phone,
        "email": email,
        "address": address,
        "photo": photo,
    }
    for name, value in changes.items():
        if value is not UNCHANGED:
            setattr(patient, name, value)
    patient.full_clean()
    patient.save()
    return patient
