from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from anagen.clinic.accounts.policy import Perm, allows
from anagen.clinic.common.forms import add_service_errors, submit_once
from anagen.clinic.common.responses import stored_file_response
from anagen.clinic.patients.selectors import patient_get
from anagen.clinic.registry.services import visit_report_record

from . import selectors, services
from .forms import (
    CorrectionForm,
    ImagingVisitForm,
    PhotoForm,
    TargetSiteForm,
    TrichoscopyForm,
    VisitReportForm,
)


@submit_once
def visit_new(request, patient_pk):
    patient = patient_get(user=request.user, pk=patient_pk)
    form = ImagingVisitForm(
        request.POST or None,
        initial={"taken_on": timezone.localdate()},
        scheduled=patient.scheduled_visits.filter(completed=False, kind="follow_up"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            visit = services.imaging_visit_create(
                actor=request.user, patient=patient, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("imaging:visit", pk=visit.pk)
    return render(request, "imaging/visit_new.html", {"patient": patient, "form": form})


@submit_once
def target_site_new(request, patient_pk):
    patient = patient_get(user=request.user, pk=patient_pk)
    form = TargetSiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.target_site_create(actor=request.user, patient=patient, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Target site marked.")
            return redirect("progress:patient", patient_pk=patient.pk)
    return render(request, "imaging/target_site_new.html", {"patient": patient, "form": form})


def _report_initial(report) -> dict:
    if report is None:
        return {}
    return {
        "pull_test_hairs": report.pull_test_hairs,
        "satisfaction": report.satisfaction,
        "shedding": report.shedding,
        "global_assessment": report.global_assessment,
    }


@submit_once
def visit_detail(request, pk):
    visit = selectors.visit_get(user=request.user, pk=pk)
    report = selectors.visit_report(visit=visit)
    may_assess = allows(request.user, Perm.GLOBAL_ASSESSMENT_RECORD)
    day0_images = selectors.day0_candidates(visit=visit)
    photo_form = PhotoForm(prefix="photo")
    tricho_form = TrichoscopyForm(
        prefix="tricho", sites=visit.patient.target_sites.all(), day0_images=day0_images
    )
    report_form = VisitReportForm(
        prefix="report", initial=_report_initial(report), may_assess=may_assess
    )
    if request.method == "POST":
        posted = (
            "report"
            if "report-pull_test_hairs" in request.POST
            else "photo"
            if "photo-view" in request.POST
            else "tricho"
        )
        try:
            if posted == "report":
                report_form = VisitReportForm(
                    request.POST,
                    prefix="report",
                    initial=_report_initial(report),
                    may_assess=may_assess,
                )
                if report_form.is_valid():
                    visit_report_record(actor=request.user, visit=visit, **report_form.cleaned_data)
                    messages.success(request, "Visit report saved.")
                    return redirect("imaging:visit", pk=visit.pk)
            elif posted == "photo":
                photo_form = PhotoForm(request.POST, request.FILES, prefix="photo")
                if photo_form.is_valid():
                    services.photo_upload(
                        actor=request.user, visit=visit, **photo_form.cleaned_data
                    )
                    messages.success(request, "Photo saved.")
                    return redirect("imaging:visit", pk=visit.pk)
            else:
                tricho_form = TrichoscopyForm(
                    request.POST,
                    request.FILES,
                    prefix="tricho",
                    sites=visit.patient.target_sites.all(),
                    day0_images=day0_images,
                )
                if tricho_form.is_valid():
                    record = services.trichoscopy_upload(
                        actor=request.user, visit=visit, **tricho_form.cleaned_data
                    )
                    messages.success(request, "Trichoscopy image saved; analysis queued.")
                    return redirect("imaging:trichoscopy", pk=record.pk)
        except ValidationError as error:
            forms = {"report": report_form, "photo": photo_form, "tricho": tricho_form}
            add_service_errors(forms[posted], error)
    return render(
        request,
        "imaging/visit.html",
        {
            "visit": visit,
            "patient": visit.patient,
            "photo_form": photo_form,
            "tricho_form": tricho_form,
            "report_form": report_form,
            "report": report,
            "photos": visit.photos.all(),
            "images": visit.trichoscopy.select_related(
                "target_site", "device", "regrowth_of__visit"
            ),
            "matched": selectors.matched_changes(visit=visit),
        },
    )


@submit_once
def trichoscopy_detail(request, pk):
    record = selectors.trichoscopy_get(user=request.user, pk=pk)
    viewer = selectors.correction_viewer(record)
    form = CorrectionForm(
        request.POST or None,
        initial=CorrectionForm.initial_for(record),
        hairs=viewer["hairs"] if viewer else [],
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.trichoscopy_correct(actor=request.user, record=record, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Correction saved; the automatic values are kept beside it.")
            return redirect("imaging:trichoscopy", pk=record.pk)
    return render(
        request,
        "imaging/trichoscopy.html",
        {
            "record": record,
            "patient": record.visit.patient,
            "corrected": record.corrected_counts() if record.is_corrected else None,
            "quality": (record.result or {}).get("quality", {}),
            "histogram": (record.result or {}).get("diameter_histogram", []),
            "form": form,
            "viewer": viewer,
        },
    )


@require_POST
def trichoscopy_retry(request, pk):
    record = selectors.trichoscopy_get(user=request.user, pk=pk)
    try:
        services.trichoscopy_retry(actor=request.user, record=record)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Analysis queued again.")
    return redirect("imaging:trichoscopy", pk=record.pk)


def trichoscopy_file(request, pk, kind):
    record = selectors.trichoscopy_get(user=request.user, pk=pk)
    if kind.startswith("matched-"):
        return stored_file_response(selectors.matched_overlay(record=record, kind=kind[8:]))
    return stored_file_response(record.overlay if kind == "overlay" else record.image)


def photo_file(request, pk):
    return stored_file_response(selectors.photo_get(user=request.user, pk=pk).image)
