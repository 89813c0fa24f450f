from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from anagen.clinic.accounts.access import sites_for
from anagen.clinic.accounts.models import Site, User
from anagen.clinic.accounts.policy import Perm, roles_with

from .models import Appointment, Inquiry


def inquiries_visible_to(*, user: User, status: str = "") -> QuerySet[Inquiry]:
    inquiries = Inquiry.objects.filter(preferred_site__in=sites_for(user=user)).select_related(
        "preferred_site", "patient"
    )
    if status:
        inquiries = inquiries.filter(status=status)
    return inquiries


def inquiry_get(*, user: User, pk: int) -> Inquiry:
    return get_object_or_404(inquiries_visible_to(user=user), pk=pk)


def appointments_on(*, user: User, day: date, site_id: int | None = None) -> QuerySet[Appointment]:
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), tz)
    appointments = Appointment.objects.filter(
        site__in=sites_for(user=user), starts_at__gte=start, starts_at__lt=start + timedelta(days=1)
    ).select_related("patient", "clinician", "site")
    if site_id:
        appointments = appointments.filter(site_id=site_id)
    return appointments.order_by("starts_at")


def appointment_get(*, user: User, pk: int) -> Appointment:
    return get_object_or_404(
        Appointment.objects.filter(site__in=sites_for(user=user)).select_related("patient"), pk=pk
    )


def clinicians_for(*, user: User, site_id: int | None = None) -> QuerySet[User]:
    sites = sites_for(user=user)
    if site_id:
        sites = sites.filter(pk=site_id)
    return (
        User.objects.filter(role__in=roles_with(Perm.APPOINTMENT_HOLD), is_active=True)
        .filter(sites__in=sites)
        .distinct()
        .order_by("role", "last_name")
    )


def sites_to_contact() -> QuerySet[Site]:
    """The network's clinics with a telephone or e-mail, for the public pages (no login)."""
    return Site.objects.exclude(phone="", email="").order_by("name")
