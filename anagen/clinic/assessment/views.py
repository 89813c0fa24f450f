from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render

from anagen.clinic.common.forms import add_service_errors, submit_once
from anagen.clinic.patients.selectors import patient_get
from anagen.eligibility import vocab
from anagen.eligibility.labs import classify_lab, lab_test

from . import selectors, services
from .forms import AssessmentForm, OverrideForm, reference_text


@submit_once
def assessment_new(request, patient_pk):
    """The assessment in sections; "Review" shows a summary and the decision the engine would
    give before anything is stored; "Save" stores both."""
    patient = patient_get(user=request.user, pk=patient_pk)
    form = AssessmentForm(request.POST or None, sex=patient.sex)
    # The page's button asks for a review first; a post without a step saves, as before.
    step = request.POST.get("step", "save") if request.method == "POST" else ""
    if step in ("review", "save") and form.is_valid():
        try:
            if step == "review":
                preview = services.assessment_preview(
                    actor=request.user, patient=patient, fields=form.service_fields()
                )
                return render(
                    request,
                    "assessment/review.html",
                    {"patient": patient, "form": form, "decision": preview},
                )
            assessment = services.assessment_record(
                actor=request.user, patient=patient, **form.service_fields()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Assessment saved; the eligibility decision is below.")
            return redirect("assessment:detail", pk=assessment.pk)
    elif step == "change":
        form = AssessmentForm(request.POST, sex=patient.sex)  # back to editing, as entered
    return render(request, "assessment/form.html", {"patient": patient, "form": form})


def assessment_detail(request, pk):
    assessment = selectors.assessment_get(user=request.user, pk=pk)
    sex = assessment.patient.sex
    labs = [
        (lab_test(code), value, reference_text(lab_test(code), sex), classify_lab(code, value, sex))
        for code, value in assessment.labs.items()
    ]
    return render(
        request,
        "assessment/detail.html",
        {
            "assessment": assessment,
            "patient": assessment.patient,
            "decision": getattr(assessment, "decision", None),
            "labs": labs,
            "labels": vocab.LABELS,
            "override_form": OverrideForm(),
        },
    )


@submit_once
def decision_override(request, pk):
    assessment = selectors.assessment_get(user=request.user, pk=pk)
    if not hasattr(assessment, "decision"):
        raise Http404("This assessment has no eligibility decision to override.")
    form = OverrideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.decision_override(
                actor=request.user,
                decision=assessment.decision,
                outcome=form.cleaned_data["outcome"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Override recorded.")
            return redirect("assessment:detail", pk=assessment.pk)
    return render(request, "assessment/override.html", {"assessment": assessment, "form": form})
