from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone

from anagen.clinic.accounts.access import sites_for
from anagen.clinic.common.csv_export import csv_response, wants_csv
from anagen.clinic.common.forms import add_service_errors, submit_once
from anagen.clinic.common.responses import stored_file_response

from . import selectors, services
from .forms import PatientForm, PatientSearchForm

#: Session key of the current patient search: the terms (names, MRNs, dates of birth) are
#: posted and kept in the session, never put in a URL (URLs end up in access logs, proxies and
#: browser history).
SEARCH_KEY = "patients_search"


def patient_list(request):
    if request.method == "POST":
        form = PatientSearchForm(request.POST)
        if form.is_valid():
            request.session[SEARCH_KEY] = form.cleaned_data["q"]
            return redirect("patients:list")
    else:
        form = PatientSearchForm(initial={"q": request.session.get(SEARCH_KEY, "")})
    query = form.cleaned_data["q"] if form.is_bound and form.is_valid() else ""
    if not form.is_bound:
        query = request.session.get(SEARCH_KEY, "")
    patients = selectors.patient_search(user=request.user, query=query)
    if wants_csv(request):
        return csv_response(
            request,
            name="patients",
            header=(
                "MRN",
                "Given name",
                "Family name",
                "Date of birth",
                "Sex",
                "Site",
                "Phone",
                "E-mail",
            ),
            rows=(
                (
                    p.mrn,
                    p.given_name,
                    p.family_name,
                    p.date_of_birth,
                    p.get_sex_display(),
                    p.site.name,
                    p.phone,
                    p.email,
                )
                for p in patients.iterator()
            ),
        )
    page = Paginator(patients, 25).get_page(request.GET.get("page"))
    return render(request, "patients/list.html", {"form": form, "page": page, "query": query})


@submit_once
def patient_create(request):
    sites = sites_for(user=request.user)
    form = PatientForm(request.POST or None, request.FILES or None, sites=sites, confirmable=True)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_create(actor=request.user, **form.cleaned_data)
        except services.PossibleDuplicate as error:
            duplicates = selectors.duplicates_for_display(user=request.user, matches=error.matches)
            form.ask_to_confirm()  # the matches are shown above the form, once
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Patient {patient.full_name} registered as {patient.mrn}.")
            return redirect("patients:chart", pk=patient.pk)
    return render(
        request,
        "patients/form.html",
        {"form": form, "title": "New patient", "duplicates": duplicates},
    )


def patient_edit(request, pk):
    patient = selectors.patient_get(user=request.user, pk=pk)
    sites = sites_for(user=request.user)
    form = PatientForm(request.POST or None, request.FILES or None, instance=patient, sites=sites)
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_update(actor=request.user, patient=patient, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Patient details saved.")
            return redirect("patients:chart", pk=patient.pk)
    return render(
        request, "patients/form.html", {"form": form, "patient": patient, "title": "Edit patient"}
    )


def patient_chart(request, pk):
    from anagen.clinic.assessment.selectors import assessments_for
    from anagen.clinic.intake.models import Appointment
    from anagen.clinic.treatment.selectors import adverse_events_for, plans_for

    patient = selectors.patient_get(user=request.user, pk=pk)
    appointments = Appointment.objects.filter(patient=patient).select_related("clinician")
    return render(
        request,
        "patients/chart.html",
        {
            "patient": patient,
            "age": patient.age_on(timezone.localdate()),
            "appointments": appointments,
            "assessments": assessments_for(patient=patient),
            "plans": plans_for(patient=patient),
            "adverse_events": adverse_events_for(patient=patient),
        },
    )


def patient_photo(request, pk):
    """Serve the identity photo only to staff who may see this patient (never a public URL)."""
    patient = selectors.patient_get(user=request.user, pk=pk)
    return stored_file_response(patient.photo)
