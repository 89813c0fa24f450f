"""Reads of patients, always scoped to the sites the member of staff works at."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from anagen.clinic.accounts.models import Site, User

from .models import Patient


def sites_for(*, user: User) -> QuerySet[Site]:
    if user.all_sites or user.is_superuser:
        return Site.objects.all()
    return user.sites.all()


def require_site_access(*, user: User, site_id: int) -> None:
    """Raise PermissionDenied unless ``user`` works at the site (used by every write service)."""
    if not sites_for(user=user).filter(pk=site_id).exists():
        raise PermissionDenied("This record belongs to a site you do not work at.")


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
