"""Plans, consent and harvest pages."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils import timezone

from anagen.clinic.common.forms import add_service_errors, submit_once
from anagen.clinic.common.responses import stored_file_response
from anagen.clinic.patients.selectors import patient_get

from .. import selectors, services
from ..forms import (
    ConsentSignForm,
    ConsentWithdrawForm,
    HarvestForm,
    PlanForm,
    volume_hint,
)
from ..models import (
    AdverseEvent,
    CellProduct,
    ConsentText,
    ProtocolTemplate,
)
from .lab import product_display

# --- plan ----------------------------------------------------------------------------------


@submit_once
def plan_new(request, patient_pk):
    patient = patient_get(user=request.user, pk=patient_pk)
    protocols = ProtocolTemplate.objects.filter(active=True).order_by("name")
    asked = request.GET.get("protocol", "")
    chosen = (
        asked.isdecimal() and len(asked) <= 18 and protocols.filter(pk=int(asked)).first()
    ) or protocols.first()
    form = PlanForm(
        request.POST or None, initial=PlanForm.initial_from(chosen, patient.site.currency)
    )
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_create(
                actor=request.user,
                patient=patient,
                protocol=form.cleaned_data["protocol"],
                **form.service_fields(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Treatment plan created; it now needs the patient's consent.")
            return redirect("treatment:plan", pk=plan.pk)
    return render(
        request,
        "treatment/plan_form.html",
        {
            "patient": patient,
            "form": form,
            "protocol": chosen,
            "protocols": protocols,
            "has_protocols": protocols.exists(),
            "eligibility_refusal": selectors.eligibility_refusal(patient),
        },
    )


def plan_detail(request, pk):
    plan = selectors.plan_get(user=request.user, pk=pk)
    products = (
        CellProduct.objects.filter(harvest__plan=plan)
        .select_related("harvest")
        .order_by("harvest__performed_at", "product_number")
    )
    return render(
        request,
        "treatment/plan_detail.html",
        {
            "plan": plan,
            "patient": plan.patient,
            "consent": selectors.valid_consent_for(plan),
            "treatment_refusal": selectors.treatment_refusal(plan),
            "consents": plan.consents.select_related("consent_text", "witnessed_by"),
            "harvests": plan.harvests.select_related("operator").order_by("performed_at"),
            "products": products,
            "sessions": plan.sessions.select_related("product", "performed_by", "verified_by"),
            "adverse_events": AdverseEvent.objects.filter(
                Q(session__plan=plan) | Q(harvest__plan=plan)
            ).select_related("reported_by"),
            "visits": plan.scheduled_visits.select_related("appointment"),
            "today": timezone.localdate(),
        },
    )


# --- consent -------------------------------------------------------------------------------


@submit_once
def consent_sign(request, pk):
    plan = selectors.plan_get(user=request.user, pk=pk)
    text = selectors.consent_text_current()
    form = ConsentSignForm(
        request.POST or None, initial={"consent_text": text.pk if text else None}
    )
    if request.method == "POST" and form.is_valid():
        signed_text = ConsentText.objects.filter(pk=form.cleaned_data["consent_text"]).first()
        if signed_text is None:
            form.add_error(None, "The consent version shown is no longer available; reload.")
        else:
            try:
                services.consent_sign(
                    actor=request.user,
                    plan=plan,
                    consent_text=signed_text,
                    signer_name=form.cleaned_data["signer_name"],
                    agrees=form.cleaned_data["agrees"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request, "Consent signed and witnessed; the signed PDF is kept with the plan."
                )
                return redirect("treatment:plan", pk=plan.pk)
    return render(
        request,
        "treatment/consent.html",
        {
            "plan": plan,
            "patient": plan.patient,
            "text": text,
            "paragraphs": [p.strip() for p in text.body.split("\n\n") if p.strip()] if text else [],
            "form": form,
            "consent": selectors.valid_consent_for(plan),
        },
    )


def consent_pdf(request, pk):
    """The signed snapshot, served only to staff allowed to see it (never a public media URL)."""
    consent = selectors.consent_get(user=request.user, pk=pk)
    return stored_file_response(
        consent.snapshot_pdf,
        download_name=f"consent-{consent.plan.patient.mrn}-plan{consent.plan_id}-v{consent.consent_text.version}.pdf",
    )


@submit_once
def consent_withdraw(request, pk):
    consent = selectors.consent_get(user=request.user, pk=pk)
    form = ConsentWithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_withdraw(
                actor=request.user, consent=consent, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Withdrawal of consent recorded.")
            return redirect("treatment:plan", pk=consent.plan_id)
    return render(
        request,
        "treatment/consent_withdraw.html",
        {"consent": consent, "plan": consent.plan, "patient": consent.plan.patient, "form": form},
    )


# --- harvest -------------------------------------------------------------------------------


@submit_once
def harvest_new(request, pk):
    plan = selectors.plan_get(user=request.user, pk=pk)
    form = HarvestForm(
        request.POST or None,
        initial={"performed_at": timezone.localtime().replace(second=0, microsecond=0)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            harvest = services.harvest_record(
                actor=request.user, plan=plan, **form.service_fields()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            product = harvest.products.order_by("product_number").first()
            messages.success(
                request,
                f"Harvest recorded: donation {harvest.donation_code}, specimen "
                f"{product_display(product)} sent to the laboratory.",
            )
            hint = volume_hint(harvest.volume_ml)
            if hint:
                messages.warning(request, hint)
            return redirect("treatment:plan", pk=plan.pk)
    return render(
        request,
        "treatment/harvest_form.html",
        {
            "plan": plan,
            "patient": plan.patient,
            "form": form,
            "consent": selectors.valid_consent_for(plan),
            "volume_hint": volume_hint(getattr(form, "cleaned_data", {}).get("volume_ml")),
            "treatment_refusal": selectors.treatment_refusal(plan),
        },
    )
