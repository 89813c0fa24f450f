"""The staff page of the FHIR import: upload a Bundle, read the dry run, apply it."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from anagen.clinic.common.forms import submit_once

from .forms import BundleApplyForm, BundleUploadForm
from .services import ImportRefused, fhir_import_apply, fhir_import_plan


@submit_once
def upload(request: HttpRequest) -> HttpResponse:
    user = request.user
    report = None
    apply_form = None
    form = BundleUploadForm(user=user)  # type: ignore[arg-type]
    if request.method == "POST" and request.POST.get("action") == "apply":
        checked = BundleApplyForm(request.POST, user=user)  # type: ignore[arg-type]
        if checked.is_valid():
            site, raw = checked.cleaned_data["site"], checked.cleaned_data["raw"]
            try:
                done = fhir_import_apply(actor=user, site=site, raw=raw)  # type: ignore[arg-type]
            except ImportRefused as refused:
                report = refused.report
            else:
                mrns = ", ".join(p.mrn for p in done.patients) or "none"
                messages.success(
                    request,
                    f"Imported {len(done.patients)} patient{'s' if len(done.patients) != 1 else ''}"
                    f" ({mrns}) with {done.assessments} assessment"
                    f"{'s' if done.assessments != 1 else ''}.",
                )
                return redirect(reverse("fhir_import:upload"))
        else:
            messages.error(request, "The checked Bundle did not come back intact: upload it again.")
    elif request.method == "POST":
        form = BundleUploadForm(request.POST, request.FILES, user=user)  # type: ignore[arg-type]
        if form.is_valid():
            site, raw = form.cleaned_data["site"], form.cleaned_data["bundle"]
            report = fhir_import_plan(actor=user, site=site, raw=raw)  # type: ignore[arg-type]
            if report.ok:
                apply_form = BundleApplyForm(
                    initial={"site": site.pk, "raw": raw},
                    user=user,  # type: ignore[arg-type]
                )
    return render(
        request,
        "fhir/import.html",
        {
            "form": form,
            "report": report,
            "apply_form": apply_form,
            "apply_count": len(report.patients) if apply_form and report else 0,
        },
        status=400 if report is not None and not report.ok else 200,
    )
