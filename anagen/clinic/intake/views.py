from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from anagen.clinic.accounts.access import sites_for
from anagen.clinic.common.csv_export import csv_response, wants_csv
from anagen.clinic.common.forms import add_service_errors, submit_once
from anagen.clinic.patients.forms import CONFIRM_FIELD
from anagen.clinic.patients.selectors import duplicates_for_display, patient_get
from anagen.clinic.patients.services import PossibleDuplicate

from . import selectors, services
from .forms import (
    AppointmentForm,
    ConvertInquiryForm,
    DayForm,
    InquiryNoteForm,
    PublicInquiryForm,
    slot_day_asked,
    slot_initial,
)
from .models import Appointment, Inquiry


def home(request):
    """The start page: today's appointments at the user's sites and the call-back queue."""
    today = timezone.localdate()
    return render(
        request,
        "intake/home.html",
        {
            "today": today,
            "appointments": selectors.appointments_on(user=request.user, day=today),
            "new_inquiries": selectors.inquiries_visible_to(
                user=request.user, status="new"
            ).count(),
        },
    )


@ratelimit(key="ip", rate="5/h", method="POST", block=False)
@submit_once
def public_request(request):
    """The public 'request a call back' page: no login, rate-limited, never creates patients."""
    form = PublicInquiryForm(request.POST or None)
    if request.method == "POST":
        if getattr(request, "limited", False):
            form.is_valid()
            form.add_error(
                None,
                "We have received several requests from you already. Please call us instead: "
                "our clinics' numbers are below the form.",
            )
        elif form.is_valid():
            if not form.is_spam():
                data = form.cleaned_data
                services.inquiry_submit(
                    full_name=data["full_name"],
                    phone=data["phone"],
                    preferred_site=data["preferred_site"],
                    email=data["email"],
                    preferred_time=data["preferred_time"],
                    message=data["message"],
                )
            return redirect("intake:request_thanks")
    return render(
        request,
        "intake/public_request.html",
        {"form": form, "clinics": selectors.sites_to_contact()},
    )


def public_request_thanks(request):
    return render(request, "intake/public_thanks.html")


def inquiry_list(request):
    status = request.GET.get("status", "")
    if status not in Inquiry.Status.values:
        status = ""
    inquiries = selectors.inquiries_visible_to(user=request.user, status=status)
    if wants_csv(request):
        return csv_response(
            request,
            name="inquiries",
            header=(
                "Received",
                "Name",
                "Phone",
                "E-mail",
                "Site",
                "Best time to call",
                "Status",
                "Message",
            ),
            rows=(
                (
                    i.received_at,
                    i.full_name,
                    i.phone,
                    i.email,
                    i.preferred_site.name,
                    i.preferred_time,
                    i.get_status_display(),
                    i.message,
                )
                for i in inquiries.select_related("preferred_site").iterator()
            ),
        )
    return render(
        request,
        "intake/inquiries.html",
        {"inquiries": inquiries[:200], "status": status, "statuses": Inquiry.Status.choices},
    )


@submit_once
def inquiry_detail(request, pk):
    inquiry = selectors.inquiry_get(user=request.user, pk=pk)
    form = InquiryNoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.inquiry_add_note(
                actor=request.user,
                inquiry=inquiry,
                text=form.cleaned_data["text"],
                status=form.cleaned_data["status"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Note saved.")
            return redirect("intake:inquiry", pk=inquiry.pk)
    return render(request, "intake/inquiry.html", {"inquiry": inquiry, "form": form})


@submit_once
def inquiry_convert(request, pk):
    inquiry = selectors.inquiry_get(user=request.user, pk=pk)
    sites = sites_for(user=request.user)
    given, _, family = inquiry.full_name.partition(" ")
    initial = {
        "given_name": given,
        "family_name": family,
        "phone": inquiry.phone,
        "email": inquiry.email,
        "site": inquiry.preferred_site_id,
    }
    form = ConvertInquiryForm(
        request.POST or None,
        initial=initial,
        sites=sites,
        clinicians=selectors.clinicians_for(user=request.user),
    )
    duplicates = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        patient_fields = {
            k: data[k]
            for k in ("given_name", "family_name", "date_of_birth", "sex", "phone", "email")
        }
        try:
            patient, appointment = services.inquiry_convert(
                actor=request.user,
                inquiry=inquiry,
                patient_fields=patient_fields,
                consult_starts_at=data["consult_starts_at"],
                clinician=data["clinician"],
                site=data["site"],
                confirm_not_duplicate=data.get(CONFIRM_FIELD, False),
            )
        except PossibleDuplicate as error:
            duplicates = duplicates_for_display(user=request.user, matches=error.matches)
            form.ask_to_confirm()  # the matches are shown above the form, once
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"{patient.full_name} registered as {patient.mrn}; consultation booked for "
                f"{timezone.localtime(appointment.starts_at):%d %b %Y %H:%M}.",
            )
            return redirect("patients:chart", pk=patient.pk)
    return render(
        request,
        "intake/convert.html",
        {"inquiry": inquiry, "form": form, "duplicates": duplicates},
    )


def day_view(request):
    sites = sites_for(user=request.user)
    form = DayForm(request.GET or None, sites=sites)
    day = timezone.localdate()
    site = None
    if form.is_valid():
        day = form.cleaned_data["day"] or day
        site = form.cleaned_data["site"]
    days = selectors.clinician_days(user=request.user, day=day, site_id=site.pk if site else None)
    if wants_csv(request):
        return csv_response(
            request,
            name=f"day-{day.isoformat()}",
            header=(
                "Day",
                "From",
                "To",
                "Clinician",
                "Appointment",
                "MRN",
                "Patient",
                "Clinic",
                "Status",
            ),
            rows=(
                (
                    day,
                    timezone.localtime(a.starts_at).strftime("%H:%M"),
                    timezone.localtime(a.ends_at).strftime("%H:%M"),
                    d.clinician.display_name,
                    a.get_kind_display(),
                    a.patient.mrn,
                    a.patient.full_name,
                    a.site.name,
                    a.get_status_display(),
                )
                for d in days
                for a in d.appointments
            ),
        )
    return render(
        request,
        "intake/day.html",
        {
            "form": form,
            "day": day,
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
            "site": site,
            "clinician_days": days,
            "count": sum(len(d.appointments) for d in days),
            "statuses": Appointment.Status.choices,
        },
    )


def week_view(request):
    """Seven days × clinicians: how many appointments and free slots each has."""
    sites = sites_for(user=request.user)
    form = DayForm(request.GET or None, sites=sites)
    day = timezone.localdate()
    site = None
    if form.is_valid():
        day = form.cleaned_data["day"] or day
        site = form.cleaned_data["site"]
    monday = day - timedelta(days=day.weekday())
    week = [monday + timedelta(days=n) for n in range(7)]
    columns = [
        selectors.clinician_days(user=request.user, day=d, site_id=site.pk if site else None)
        for d in week
    ]
    rows = (
        [
            (column_days[0].clinician, [(d, cd) for d, cd in zip(week, column_days, strict=True)])
            for column_days in zip(*columns, strict=True)
        ]
        if columns and columns[0]
        else []
    )
    if wants_csv(request):
        return csv_response(
            request,
            name=f"week-{monday.isoformat()}",
            header=("Clinician", "Role", "Day", "Appointments booked", "Free slots"),
            rows=(
                (
                    clinician.display_name,
                    clinician.get_role_display(),
                    d,
                    len(cd.appointments),
                    len(cd.free),
                )
                for clinician, cells in rows
                for d, cd in cells
            ),
        )
    return render(
        request,
        "intake/week.html",
        {
            "form": form,
            "week": week,
            "rows": rows,
            "site": site,
            "slot_minutes": settings.ANAGEN_SLOT_MINUTES,
            "previous_week": monday - timedelta(days=7),
            "next_week": monday + timedelta(days=7),
        },
    )


@submit_once
def appointment_new(request, patient_pk):
    patient = patient_get(user=request.user, pk=patient_pk)
    clinicians = selectors.clinicians_for(user=request.user, site_id=patient.site_id)
    form = AppointmentForm(
        request.POST or None,
        initial={
            "kind": request.GET.get("kind", Appointment.Kind.CONSULT),
            **slot_initial(request.GET, clinicians),
        },
        clinicians=clinicians,
    )
    slot_day = slot_day_asked(request.GET)
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_book(actor=request.user, patient=patient, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Appointment booked.")
            return redirect("patients:chart", pk=patient.pk)
    return render(
        request,
        "intake/appointment_form.html",
        {
            "patient": patient,
            "form": form,
            "slot_day": slot_day,
            "free_days": selectors.clinician_days(
                user=request.user, day=slot_day, site_id=patient.site_id
            ),
            "kind": request.GET.get("kind", ""),
        },
    )


@require_POST
def appointment_status(request, pk):
    appointment = selectors.appointment_get(user=request.user, pk=pk)
    try:
        services.appointment_set_status(
            actor=request.user, appointment=appointment, status=request.POST.get("status", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Marked {appointment.get_status_display().lower()}.")
    next_url = request.POST.get("next", "")
    if next_url.startswith("/") and not next_url.startswith("//"):
        return redirect(next_url)
    return redirect("patients:chart", pk=appointment.patient_id)
