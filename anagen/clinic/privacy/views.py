"""Pages for patients' data rights, reached from the patient's chart (privacy officer only)."""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import redirect, render

from anagen.clinic.common.forms import add_service_errors
from anagen.clinic.patients.selectors import patient_get

from . import services
from .forms import EraseConfirmForm, EraseRequestForm, ExportForm
from .models import PrivacyEvent
from .selectors import patient_rows


def patient_export(request, pk):
    patient = patient_get(user=request.user, pk=pk)
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        out = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the FileResponse)
        try:
            services.patient_data_export(
                actor=request.user, patient=patient, reason=form.cleaned_data["reason"], out=out
            )
        except ValidationError as error:
            out.close()
            add_service_errors(form, error)
        else:
            out.seek(0)
            response = FileResponse(
                out,
                as_attachment=True,
                filename=f"patient-{patient.pk}-data.zip",
                content_type="application/zip",
            )
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "privacy/export.html", {"patient": patient, "form": form})


def patient_erase(request, pk):
    """Two steps: the request and its reason, then the MRN typed again, then the erasure."""
    patient = patient_get(user=request.user, pk=pk)
    erased = PrivacyEvent.objects.filter(patient=patient, kind=PrivacyEvent.Kind.ERASURE).first()
    context = {"patient": patient, "erased": erased}
    if erased is not None:
        return render(request, "privacy/erase.html", context)
    if request.method == "POST" and request.POST.get("step") == "confirm":
        form = EraseConfirmForm(request.POST)
        if form.is_valid():
            try:
                event = services.patient_erase(
                    actor=request.user, patient=patient, **form.cleaned_data
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    f"The patient's identity was erased; the record is now {event.pseudonym}.",
                )
                return redirect("patients:chart", pk=patient.pk)
        return render(
            request, "privacy/erase_confirm.html", {**context, "form": form, **_what(patient)}
        )
    form = EraseRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        confirm = EraseConfirmForm(initial={"reason": form.cleaned_data["reason"]})
        return render(
            request, "privacy/erase_confirm.html", {**context, "form": confirm, **_what(patient)}
        )
    return render(request, "privacy/erase.html", {**context, "form": form})


def _what(patient) -> dict:
    """What the erasure will touch, in counts, for the confirmation page."""
    kinds: dict[str, int] = {}
    files = 0
    for entry, row in patient_rows(patient):
        name = str(entry.model._meta.verbose_name_plural)
        kinds[name] = kinds.get(name, 0) + 1
        files += sum(
            1
            for f in row._meta.concrete_fields
            if f.get_internal_type() in ("FileField", "ImageField") and getattr(row, f.attname)
        )
    return {"kinds": sorted(kinds.items()), "files": files}
