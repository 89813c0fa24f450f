"""Reads of patients, always scoped to the sites the member of staff works at."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import sites_for

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
