from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
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
    if not (FIRST_DAY <= day <= LAST_DAY):
        return Appointment.objects.none()
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


# --- availability: who is free when (the booking grid) -------------------------------------


@dataclass(frozen=True)
class ClinicianDay:
    """One clinician's day: their appointments at the user's sites and their free slots."""

    clinician: User
    appointments: list[Appointment]
    free: list[datetime]


#: The days the diary pages accept: far enough from ``date.min``/``date.max`` that a week's
#: arithmetic (previous/next week, the day after) cannot overflow.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9998, 12, 31)


def day_in_range(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def slots_of(day: date) -> list[datetime]:
    """The bookable slot starts of ``day`` (``ANAGEN_CLINIC_DAY``, ``ANAGEN_SLOT_MINUTES``)."""
    opens, closes = (time.fromisoformat(t) for t in settings.ANAGEN_CLINIC_DAY)
    step = timedelta(minutes=settings.ANAGEN_SLOT_MINUTES)
    start = _day_start(day).replace(hour=opens.hour, minute=opens.minute)
    end = _day_start(day).replace(hour=closes.hour, minute=closes.minute)
    slots = []
    while start + step <= end:
        slots.append(start)
        start += step
    return slots


def clinician_days(
    *, user: User, day: date, site_id: int | None = None, clinician_id: int | None = None
) -> list[ClinicianDay]:
    """Every clinician of the user's sites (or one site) with the day's appointments and free
    slots. A clinician booked at another site is busy there too, so that time is not free
    (which site it is stays hidden). Slots already begun are not offered."""
    if not day_in_range(day):
        return []
    clinicians = list(clinicians_for(user=user, site_id=site_id))
    if clinician_id:
        clinicians = [c for c in clinicians if c.pk == clinician_id]
    start = _day_start(day)
    busy: dict[int, list[tuple[datetime, datetime]]] = {}
    for clinician_pk, begins, ends in Appointment.objects.filter(
        clinician__in=clinicians,
        status__in=Appointment.ACTIVE,
        starts_at__lt=start + timedelta(days=1),
        ends_at__gt=start,
    ).values_list("clinician_id", "starts_at", "ends_at"):
        busy.setdefault(clinician_pk, []).append((begins, ends))
    shown: dict[int, list[Appointment]] = {}
    for appointment in appointments_on(user=user, day=day, site_id=site_id):
        shown.setdefault(appointment.clinician_id, []).append(appointment)
    step = timedelta(minutes=settings.ANAGEN_SLOT_MINUTES)
    now = timezone.now()
    slots = [s for s in slots_of(day) if s >= now]
    return [
        ClinicianDay(
            clinician=c,
            appointments=shown.get(c.pk, []),
            free=[
                s for s in slots if not any(b < s + step and s < e for b, e in busy.get(c.pk, []))
            ],
        )
        for c in clinicians
    ]
