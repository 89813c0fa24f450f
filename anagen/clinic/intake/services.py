"""Writes for inquiries, appointments and reminders."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from anagen.clinic.accounts.access import require_site_access
from anagen.clinic.accounts.models import Site, User
from anagen.clinic.accounts.policy import Perm, allows, require
from anagen.clinic.common import clock
from anagen.clinic.patients.models import Patient
from anagen.clinic.patients.services import patient_create

from .error_codes import IntakeErrorCode as Code
from .error_codes import refusal
from .models import Appointment, Inquiry, InquiryNote, ReminderSent

logger = logging.getLogger(__name__)


def inquiry_submit(
    *,
    full_name: str,
    phone: str,
    preferred_site: Site,
    email: str = "",
    preferred_time: str = "",
    message: str = "",
) -> Inquiry:
    """Record a request from the public page. It never creates a patient by itself.

    Only what the public may say is a parameter: status and patient are set by staff later.
    """
    inquiry = Inquiry(
        full_name=full_name,
        phone=phone,
        preferred_site=preferred_site,
        email=email,
        preferred_time=preferred_time,
        message=message,
    )
    inquiry.full_clean()
    inquiry.save()
    logger.debug("inquiry received id=%s site=%s", inquiry.pk, preferred_site.code)
    return inquiry


def _check_inquiry_site(*, actor: User, inquiry: Inquiry) -> None:
    require(actor, Perm.INQUIRY_WORK)
    require_site_access(user=actor, site_id=inquiry.preferred_site_id)


@transaction.atomic
def inquiry_add_note(*, actor: User, inquiry: Inquiry, text: str, status: str = "") -> InquiryNote:
    _check_inquiry_site(actor=actor, inquiry=inquiry)
    text = text.strip()
    if not text:
        raise refusal("Write what was said on the call.", Code.NOTE_REQUIRED, "text")
    note = InquiryNote.objects.create(inquiry=inquiry, author=actor, text=text)
    if status:
        inquiry_set_status(actor=actor, inquiry=inquiry, status=status)
    elif inquiry.status == Inquiry.Status.NEW:
        inquiry_set_status(actor=actor, inquiry=inquiry, status=Inquiry.Status.CALLED_BACK)
    return note


@transaction.atomic
def inquiry_set_status(*, actor: User, inquiry: Inquiry, status: str) -> Inquiry:
    _check_inquiry_site(actor=actor, inquiry=inquiry)
    if status not in Inquiry.Status.values:
        raise refusal(f"Unknown status {status!r}.", Code.UNKNOWN_STATUS, "status")
    if status == Inquiry.Status.BOOKED and inquiry.patient_id is None:
        raise refusal("Book a consultation to mark the inquiry booked.", Code.NOT_BOOKED, "status")
    inquiry.status = status
    inquiry.save(update_fields=["status"])
    return inquiry


@transaction.atomic
def inquiry_convert(
    *,
    actor: User,
    inquiry: Inquiry,
    patient_fields: dict[str, Any],
    consult_starts_at: datetime,
    clinician: User,
    site: Site,
    confirm_not_duplicate: bool = False,
) -> tuple[Patient, Appointment]:
    """Turn an inquiry into a patient and a booked consultation, all or nothing.

    The inquiry row is locked first, so two coordinators converting it at once make one
    patient: the second waits, then sees it converted. (SQLite has no row locks; its
    IMMEDIATE transactions serialise the two writers instead, see settings.)
    """
    _check_inquiry_site(actor=actor, inquiry=inquiry)
    inquiry = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    if inquiry.patient_id is not None:
        raise ValidationError(
            "This inquiry has already been converted to a patient.", code=Code.ALREADY_CONVERTED
        )
    patient = patient_create(
        actor=actor, site=site, confirm_not_duplicate=confirm_not_duplicate, **patient_fields
    )
    appointment = appointment_book(
        actor=actor,
        patient=patient,
        kind=Appointment.Kind.CONSULT,
        starts_at=consult_starts_at,
        clinician=clinician,
    )
    inquiry.patient = patient
    inquiry.status = Inquiry.Status.BOOKED
    inquiry.save(update_fields=["patient", "status"])
    return patient, appointment


def clinician_conflicts(
    *,
    clinician: User,
    starts_at: datetime,
    ends_at: datetime,
    exclude: Appointment | None = None,
) -> QuerySet[Appointment]:
    clashes = Appointment.objects.filter(
        clinician=clinician,
        status__in=Appointment.ACTIVE,
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
    )
    if exclude is not None:
        clashes = clashes.exclude(pk=exclude.pk)
    return clashes


#: Statuses that say the visit is over (not for an appointment still in the future; a patient
#: may arrive early, so "arrived" is not one of them).
HAPPENED = (Appointment.Status.COMPLETED, Appointment.Status.NO_SHOW)
#: Appointments are booked from this year up to this many years ahead (no year 1 or 9999).
MIN_YEAR = 2000
MAX_YEARS_AHEAD = 5
#: A booking made a few minutes late (the patient is at the desk) is not a back-entry.
BACK_ENTRY_GRACE = timedelta(minutes=15)


@transaction.atomic
def appointment_book(
    *,
    actor: User,
    patient: Patient,
    kind: str,
    starts_at: datetime,
    clinician: User,
    duration_minutes: int | None = None,
    notes: str = "",
    back_entry_reason: str = "",
) -> Appointment:
    """Book an appointment; refuses a clinician who is already busy at that time.

    An appointment that starts in the past is a back-entry: it needs a written reason.
    """
    require(actor, Perm.APPOINTMENT_BOOK)
    require_site_access(user=actor, site_id=patient.site_id)
    if not allows(clinician, Perm.APPOINTMENT_HOLD):
        raise refusal(
            "Appointments are booked with a physician or nurse.", Code.CLINICIAN_ROLE, "clinician"
        )
    if not (clinician.all_sites or clinician.sites.filter(pk=patient.site_id).exists()):
        raise refusal(
            "This clinician does not work at the patient's site.", Code.CLINICIAN_SITE, "clinician"
        )
    if kind not in Appointment.Kind.values:
        raise refusal(f"Unknown appointment kind {kind!r}.", Code.UNKNOWN_KIND, "kind")
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at)
    back_entry_reason = (back_entry_reason or "").strip()
    if starts_at < clock.now() - BACK_ENTRY_GRACE and not back_entry_reason:
        raise refusal(
            "This time is in the past: give the reason for entering it afterwards, or choose a "
            "future time.",
            Code.TIME_ORDER,
            "back_entry_reason",
        )
    if not MIN_YEAR <= starts_at.year <= clock.now().year + MAX_YEARS_AHEAD:
        raise refusal(
            f"Choose a date between {MIN_YEAR} and {MAX_YEARS_AHEAD} years ahead.",
            Code.DATE_RANGE,
            "starts_at",
        )
    minutes = duration_minutes or Appointment.DEFAULT_MINUTES[kind]
    if not 5 <= minutes <= 8 * 60:
        raise refusal(
            "Duration must be between 5 and 480 minutes.", Code.DURATION, "duration_minutes"
        )
    ends_at = starts_at + timedelta(minutes=minutes)
    # Lock the clinician's row so two coordinators cannot book the same slot concurrently.
    User.objects.select_for_update().filter(pk=clinician.pk).exists()
    clash = clinician_conflicts(clinician=clinician, starts_at=starts_at, ends_at=ends_at).first()
    if clash is not None:
        local = timezone.localtime(clash.starts_at)
        raise refusal(
            f"{clinician.display_name} is already booked from "
            f"{local:%H:%M} to {timezone.localtime(clash.ends_at):%H:%M} on {local:%d %b %Y}.",
            Code.CLINICIAN_BOOKED,
            "starts_at",
        )
    appointment = Appointment(
        patient=patient,
        site=patient.site,
        kind=kind,
        starts_at=starts_at,
        duration_minutes=minutes,
        clinician=clinician,
        notes=notes,
        back_entry_reason=back_entry_reason,
        created_by=actor,
    )
    appointment.full_clean(exclude=["ends_at"])
    appointment.save()
    return appointment


@transaction.atomic
def appointment_set_status(*, actor: User, appointment: Appointment, status: str) -> Appointment:
    require(actor, Perm.APPOINTMENT_BOOK)
    require_site_access(user=actor, site_id=appointment.site_id)
    if status not in Appointment.Status.values:
        raise refusal(f"Unknown status {status!r}.", Code.UNKNOWN_STATUS, "status")
    if status in HAPPENED and appointment.starts_at > clock.now():
        raise refusal(
            "The appointment has not started yet: it cannot be marked "
            f"\u201c{Appointment.Status(status).label}\u201d.",
            Code.TIME_ORDER,
            "status",
        )
    appointment.status = status
    appointment.save(update_fields=["status"])
    return appointment


def reminders_send_due(*, now: datetime | None = None) -> int:
    """E-mail a reminder for each booked appointment in the next 48 h, once only.

    Safe to run as often as wanted (cron, Celery beat, by hand): the ``ReminderSent`` unique
    constraint is claimed before the mail goes out, so a reminder is never sent twice.
    """
    now = now or clock.now()
    horizon = now + timedelta(hours=settings.ANAGEN_REMINDER_HOURS_AHEAD)
    due = (
        Appointment.objects.filter(
            status=Appointment.Status.BOOKED, starts_at__gt=now, starts_at__lte=horizon
        )
        .exclude(patient__email="")
        .exclude(reminders__kind="email_48h")
        .select_related("patient", "site", "clinician")
    )
    sent = 0
    for appointment in due:
        try:
            with transaction.atomic():
                ReminderSent.objects.create(appointment=appointment, kind="email_48h")
                body = render_to_string(
                    "intake/reminder_email.txt",
                    {"appointment": appointment, "clinic_name": settings.ANAGEN_CLINIC_NAME},
                )
                send_mail(
                    f"Your appointment at {settings.ANAGEN_CLINIC_NAME}",
                    body,
                    None,
                    [appointment.patient.email],
                )
        except IntegrityError:
            continue  # another worker claimed it first
        sent += 1
    logger.info("appointment reminders sent count=%s", sent)
    return sent
