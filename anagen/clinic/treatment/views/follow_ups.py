"""Adverse events and the follow-up list with its booking."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone

from anagen.clinic.accounts.access import sites_for
from anagen.clinic.accounts.roles import Role
from anagen.clinic.common.csv_export import csv_response, wants_csv
from anagen.clinic.common.forms import add_service_errors, submit_once
from anagen.clinic.intake.forms import slot_day_asked, slot_initial
from anagen.clinic.intake.selectors import clinician_days, clinicians_for
from anagen.clinic.patients.selectors import patient_get

from .. import selectors, services
from ..forms import (
    AdverseEventForm,
    FollowUpBookForm,
    FollowUpFilterForm,
)

# --- adverse events and follow-ups ---------------------------------------------------------


@submit_once
def adverse_event_new(request, patient_pk):
    patient = patient_get(user=request.user, pk=patient_pk)
    plan_pk = request.GET.get("plan") or request.POST.get("plan") or ""
    plan = (
        selectors.plan_get(user=request.user, pk=int(plan_pk))
        if plan_pk.isdecimal()
        and len(plan_pk) <= 18
        and patient.plans.filter(pk=int(plan_pk)).exists()
        else None
    )
    form = AdverseEventForm(
        request.POST or None, patient=patient, initial={"onset_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.adverse_event_report(actor=request.user, patient=patient, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Adverse event recorded.")
            if plan is not None:
                return redirect("treatment:plan", pk=plan.pk)
            return redirect("patients:chart", pk=patient.pk)
    return render(
        request,
        "treatment/adverse_event_form.html",
        {"patient": patient, "plan": plan, "form": form},
    )


def follow_ups(request):
    today = timezone.localdate()
    sites = sites_for(user=request.user)
    form = FollowUpFilterForm(
        request.GET or None,
        sites=sites,
        physicians=clinicians_for(user=request.user).filter(role=Role.PHYSICIAN),
    )
    visits = selectors.follow_up_list(user=request.user, today=today, filters=form.filters())
    if wants_csv(request):
        return csv_response(
            request,
            name="follow-ups",
            header=(
                "MRN",
                "Patient",
                "Visit",
                "Due",
                "Window from",
                "Window to",
                "State",
                "Booked for",
            ),
            rows=(
                (
                    v.patient.mrn,
                    v.patient.full_name,
                    v.label,
                    v.due_on,
                    v.window_start,
                    v.window_end,
                    selectors.FOLLOW_UP_STATES.get(v.state, v.state),
                    v.appointment.starts_at if v.state == "booked" else None,
                )
                for v in visits.iterator()
            ),
        )
    page = Paginator(visits, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "treatment/follow_ups.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "today": today,
            "states": selectors.FOLLOW_UP_STATES,
        },
    )


@submit_once
def follow_up_book(request, pk):
    visit = selectors.scheduled_visit_get(user=request.user, pk=pk)
    clinicians = clinicians_for(user=request.user, site_id=visit.patient.site_id)
    physician = visit.plan.created_by
    suggested = selectors.suggested_start(visit=visit, today=timezone.localdate())
    slot_day = slot_day_asked(request.GET, default=timezone.localdate(suggested))
    form = FollowUpBookForm(
        request.POST or None,
        initial={
            "starts_at": suggested,
            "clinician": physician if clinicians.filter(pk=physician.pk).exists() else None,
            **slot_initial(request.GET, clinicians),
        },
        clinicians=clinicians,
    )
    if request.method == "POST" and form.is_valid():
        try:
            appointment = services.scheduled_visit_book(
                actor=request.user, visit=visit, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            outside = (
                not visit.window_start
                <= timezone.localdate(appointment.starts_at)
                <= (visit.window_end)
            )
            messages.success(
                request,
                f"{visit.label} booked for {appointment.starts_at:%d %b %Y %H:%M}"
                + (" (outside its window)." if outside else "."),
            )
            return redirect("treatment:follow_ups")
    return render(
        request,
        "treatment/follow_up_book.html",
        {
            "visit": visit,
            "form": form,
            "slot_day": slot_day,
            "free_days": clinician_days(
                user=request.user, day=slot_day, site_id=visit.patient.site_id
            ),
        },
    )
