"""Reads of patients, always scoped to the sites the member of staff works at."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Replace
from django.shortcuts import get_object_or_404

from anagen.clinic.accounts.access import sites_for
from anagen.clinic.accounts.models import User

from .models import Patient


def patients_visible_to(*, user: User) -> QuerySet[Patient]:
    return Patient.objects.filter(site__in=sites_for(user=user)).select_related("site")


def patient_get(*, user: User, pk: int) -> Patient:
    """The patient if this user may see them; 404 otherwise (never reveals other sites)."""
    return get_object_or_404(patients_visible_to(user=user), pk=pk)


def patient_search(*, user: User, query: str) -> QuerySet[Patient]:
    """Search by name, MRN or date of birth (YYYY-MM-DD or DD/MM/YYYY)."""
    patients = patients_visible_to(user=user)
    query = (query or "").strip()
    if not query:
        return patients
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            born = datetime.strptime(query, fmt).date()
        except ValueError:
            continue
        return patients.filter(date_of_birth=born)
    terms = query.split()
    if len(terms) == 1:
        return patients.filter(
            Q(mrn__icontains=query)
            | Q(given_name__icontains=query)
            | Q(family_name__icontains=query)
        )
    for term in terms:  # every word must match a name, in any order
        patients = patients.filter(Q(given_name__icontains=term) | Q(family_name__icontains=term))
    return patients


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _phone_digits(phone: str) -> str:
    return re.sub(r"\D", "", phone or "")


#: Fewer digits than this is not a phone number worth matching on (e.g. an extension).
_MIN_PHONE_DIGITS = 6


def possible_duplicates(
    *,
    given_name: str,
    family_name: str,
    date_of_birth: date,
    phone: str = "",
    email: str = "",
    exclude_pk: int | None = None,
) -> list[Patient]:
    """Patients who may be the same person, searched across the whole network (every site).

    A match is the same name (case and spacing ignored) and date of birth, or the same phone
    number (digits only compared) or e-mail address. Network-wide on purpose: a person known
    at another site is still the same person. Callers show other sites' matches without PHI
    (``duplicates_for_display``).
    """
    condition = Q(date_of_birth=date_of_birth)
    digits = _phone_digits(phone)
    if len(digits) >= _MIN_PHONE_DIGITS:
        condition |= Q(phone_digits=digits)
    if email.strip():
        condition |= Q(email__iexact=email.strip())
    stripped: F | Replace = F("phone")
    for char in " -()+./":
        stripped = Replace(stripped, Value(char), Value(""))
    candidates = Patient.objects.annotate(phone_digits=stripped).filter(condition)
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    wanted = (_name_key(given_name), _name_key(family_name))
    matches: list[Patient] = []
    for candidate in candidates.select_related("site").order_by("mrn"):
        same_person = (
            candidate.date_of_birth == date_of_birth
            and (_name_key(candidate.given_name), _name_key(candidate.family_name)) == wanted
        )
        same_contact = (
            len(digits) >= _MIN_PHONE_DIGITS and _phone_digits(candidate.phone) == digits
        ) or (email.strip() and candidate.email.casefold() == email.strip().casefold())
        if same_person or same_contact:
            matches.append(candidate)
    return matches


def duplicates_for_display(*, user: User, matches: list[Patient]) -> list[dict[str, Any]]:
    """The matches as a page may show them: details only for sites ``user`` works at."""
    visible = set(sites_for(user=user).values_list("pk", flat=True))
    return [
        {
            "visible": True,
            "patient": match,
            "mrn": match.mrn,
            "name": match.full_name,
            "date_of_birth": match.date_of_birth,
            "site": match.site.name,
        }
        if match.site_id in visible
        else {"visible": False}
        for match in matches
    ]
