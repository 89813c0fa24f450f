"""Staff pages of the treatment pathway: thin views over ``services`` and ``selectors``.

Access by role is enforced by ``RoleAccessMiddleware`` from ``policy.PAGES``; every object is
fetched through a site-scoped selector (404 for another site's records); every write goes
through a service, whose ValidationError is shown on the form and changes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_POST

from anagen.clinic.accounts.access import sites_for
from anagen.clinic.accounts.roles import Role
from anagen.clinic.audit.models import Signature
from anagen.clinic.audit.signatures import current_signature, signatures_for
from anagen.clinic.common.forms import add_service_errors, submit_once
from anagen.clinic.common.responses import stored_file_response
from anagen.clinic.intake.forms import slot_day_asked, slot_initial
from anagen.clinic.intake.selectors import clinician_days, clinicians_for
from anagen.clinic.patients.selectors import patient_get
from anagen.identity import LabelData, label_pdf, label_svg, parse_product_id

from . import selectors, services
from .forms import (
    AdverseEventForm,
    ConsentSignForm,
    ConsentWithdrawForm,
    DiscardForm,
    FollowUpBookForm,
    FollowUpFilterForm,
    HarvestForm,
    PlanForm,
    ReleaseForm,
    ResultsForm,
    SessionForm,
    SplitForm,
    StoreForm,
    ThawForm,
    volume_hint,
)
from .models import (
    MAX_CELLS_PER_POINT_WARNING,
    AdverseEvent,
    CellProduct,
    ConsentText,
    Harvest,
    ProtocolTemplate,
)

# --- plan ----------------------------------------------------------------------------------


@submit_once
def plan_new(request, patient_pk):
    patient = patient_get(user=request.user, pk=patient_pk)
    protocols = ProtocolTemplate.objects.filter(active=True).order_by("name")
    asked = request.GET.get("protocol", "")
    chosen = (asked.isdigit() and protocols.filter(pk=int(asked)).first()) or protocols.first()
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
                f"{_display(product)} sent to the laboratory.",
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


# --- laboratory ----------------------------------------------------------------------------


def _display(product: CellProduct | None) -> str:
    if product is None:
        return ""
    try:
        return parse_product_id(product.product_code).display
    except ValueError:
        return product.product_code


def lab_bench(request):
    now = timezone.now()
    products = list(selectors.lab_bench(user=request.user))
    for product in products:
        product.display_id = _display(product)
        product.expired_now = product.expires_at <= now
        product.expires_soon = (
            not product.expired_now and (product.expires_at - now).total_seconds() < 6 * 3600
        )
    return render(request, "treatment/lab_bench.html", {"products": products})


def lab_home(request):
    """The lab's home: products by status and expiry, results to enter, releases, thaws."""
    return render(
        request, "treatment/lab_home.html", {"work": selectors.lab_work(user=request.user)}
    )


def cryo_inventory(request):
    """Freezer → rack → box → position grid of the stored products; search by product code."""
    query = request.GET.get("q", "").strip()[:40]
    inventory = selectors.cryo_inventory(user=request.user, query=query)
    return render(request, "treatment/cryo_inventory.html", {"inventory": inventory})


def _worklist_context(request) -> dict:
    return {
        "work": selectors.lab_work(user=request.user),
        "today": timezone.localdate(),
        "printed_at": timezone.localtime(),
        "clinic_name": settings.ANAGEN_CLINIC_NAME,
    }


def lab_worklist(request):
    """Today's lab work as a print-friendly page (the browser's print, or the PDF)."""
    return render(request, "treatment/lab_worklist.html", _worklist_context(request))


def lab_worklist_pdf(request):
    context = _worklist_context(request)
    html = render_to_string("treatment/lab_worklist_pdf.html", context, request=request)
    from weasyprint import HTML

    pdf = HTML(string=html).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="lab-worklist-{context["today"]}.pdf"'
    return response


@require_POST
def expire_sweep(request):
    count = services.products_expire_due(actor=request.user)
    messages.success(
        request, f"Expiry sweep done: {count} product{'s' if count != 1 else ''} marked expired."
    )
    return redirect("treatment:lab_bench")


def _product_page(request, product: CellProduct, status: int = 200, **forms):
    """The product page with its forms; a failed POST passes its bound form in ``forms``."""
    release_signature = current_signature(product, Signature.Meaning.RELEASE)
    next_statuses = services.TRANSITIONS[product.status]
    context = {
        "product": product,
        "patient": product.patient,
        "plan": product.harvest.plan,
        "display_id": _display(product),
        "custody": product.custody.select_related("actor"),
        "gates": selectors.release_gates(product),
        "four_eyes_refusal": selectors.four_eyes_refusal(actor=request.user, product=product),
        "signatures": signatures_for(product),
        "release_signature": release_signature,
        "editable_results": product.status
        in (CellProduct.Status.IN_PROCESSING, CellProduct.Status.QUARANTINE),
        # What the page offers comes from the state machine (services.lifecycle), not the template.
        "terminal": not next_statuses,
        "next_statuses": next_statuses,
        "splittable": services.SPLITTABLE,
        "results_form": forms.get("results_form")
        or ResultsForm(initial=ResultsForm.initial_from(product)),
        "release_form": forms.get("release_form") or ReleaseForm(),
        "store_form": forms.get("store_form") or StoreForm(),
        "thaw_form": forms.get("thaw_form") or ThawForm(),
        "discard_form": forms.get("discard_form") or DiscardForm(),
        "split_form": forms.get("split_form") or SplitForm(),
    }
    return render(request, "treatment/product_detail.html", context, status=status)


def product_detail(request, pk):
    return _product_page(request, selectors.product_get(user=request.user, pk=pk))


def _product_action(request, pk, form_class, form_name, call, success):
    """POST a product form to its service; on refusal, show the product page with the error."""
    product = selectors.product_get(user=request.user, pk=pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            call(product, form)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, success)
            return redirect("treatment:product", pk=product.pk)
    product = selectors.product_get(user=request.user, pk=pk)  # unchanged by the refusal
    return _product_page(request, product, **{form_name: form})


@require_POST
@submit_once
def product_results(request, pk):
    def call(product, form):
        services.product_record_results(
            actor=request.user, product=product, **form.service_fields()
        )

    return _product_action(
        request, pk, ResultsForm, "results_form", call, "Processing results recorded."
    )


@require_POST
@submit_once
def product_release(request, pk):
    def call(product, form):
        services.product_release(
            actor=request.user, product=product, password=form.cleaned_data["password"]
        )

    return _product_action(
        request, pk, ReleaseForm, "release_form", call, "Product released and signed."
    )


@require_POST
@submit_once
def product_store(request, pk):
    def call(product, form):
        services.product_store(actor=request.user, product=product, **form.cleaned_data)

    return _product_action(
        request, pk, StoreForm, "store_form", call, "Product cryopreserved and its location logged."
    )


@require_POST
@submit_once
def product_thaw(request, pk):
    def call(product, form):
        services.product_thaw(
            actor=request.user,
            product=product,
            use_within_hours=form.cleaned_data["use_within_hours"],
        )

    return _product_action(
        request, pk, ThawForm, "thaw_form", call, "Product thawed; its expiry is now shortened."
    )


@require_POST
@submit_once
def product_split(request, pk):
    def call(product, form):
        services.product_split(actor=request.user, product=product, **form.cleaned_data)

    return _product_action(
        request, pk, SplitForm, "split_form", call, "Aliquots drawn and labelled."
    )


@require_POST
@submit_once
def product_discard(request, pk):
    def call(product, form):
        services.product_discard(
            actor=request.user, product=product, reason=form.cleaned_data["reason"]
        )

    return _product_action(request, pk, DiscardForm, "discard_form", call, "Product discarded.")


def _label_data(product: CellProduct) -> LabelData:
    patient = product.patient
    volume = f", {product.volume_ml} mL" if product.volume_ml else ""
    return LabelData(
        identifier=parse_product_id(product.product_code),
        patient_name=f"{patient.family_name.upper()}, {patient.given_name}",
        mrn=patient.mrn,
        date_of_birth=patient.date_of_birth,
        product_description=f"{product.get_method_display()}{volume}",
        expiry=timezone.localtime(product.expires_at),
        facility_name=patient.site.name or settings.ANAGEN_CLINIC_NAME,
    )


def product_label_pdf(request, pk):
    """The printable label; every print is logged in the product's custody record."""
    product = selectors.product_get(user=request.user, pk=pk)
    pdf = label_pdf(_label_data(product))
    services.product_label_printed(actor=request.user, product=product)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="label-{product.product_code}.pdf"'
    return response


def product_label_svg(request, pk):
    """An on-screen preview of the label (not a print; not logged)."""
    product = selectors.product_get(user=request.user, pk=pk)
    return HttpResponse(label_svg(_label_data(product)), content_type="image/svg+xml")


# --- administration session ----------------------------------------------------------------


def session_new(request, pk):
    plan = selectors.plan_get(user=request.user, pk=pk)
    verifiers = selectors.verifiers_for(user=request.user, site_id=plan.patient.site_id)
    now = timezone.localtime().replace(second=0, microsecond=0)
    form = SessionForm(
        request.POST or None,
        verifiers=verifiers,
        initial={"started_at": now, "adjuncts": list(plan.adjuncts)},
    )
    identity_error = None
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_administer(
                actor=request.user, plan=plan, **form.service_fields()
            )
        except services.IdentityCheckFailed as error:
            identity_error = " ".join(error.messages)
            add_service_errors(form, error)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Session {session.session_number} recorded; the product is marked administered.",
            )
            warning = selectors.dose_warning(plan=plan, total_cells=session.total_cells)
            if warning:
                messages.warning(request, warning)
            return redirect("treatment:session", pk=session.pk)
    released = CellProduct.objects.filter(
        patient=plan.patient, status__in=services.ADMINISTRABLE
    ).order_by("expires_at")
    return render(
        request,
        "treatment/session_form.html",
        {
            "plan": plan,
            "patient": plan.patient,
            "form": form,
            "identity_error": identity_error,
            "treatment_refusal": selectors.treatment_refusal(plan),
            "released": [(p, _display(p)) for p in released],
            "in_storage": CellProduct.objects.filter(
                patient=plan.patient, status=CellProduct.Status.STORED
            ).count(),
            "warn_cells": MAX_CELLS_PER_POINT_WARNING,
        },
    )


def session_detail(request, pk):
    session = selectors.session_get(user=request.user, pk=pk)
    zones = [
        (zone, selectors.cells_per_point_warning(zone.cells_per_point))
        for zone in session.zones.all()
    ]
    return render(
        request,
        "treatment/session_detail.html",
        {
            "session": session,
            "plan": session.plan,
            "patient": session.patient,
            "zones": zones,
            "dose_warning": selectors.dose_warning(
                plan=session.plan, total_cells=session.total_cells
            ),
            "product_display": _display(session.product),
            "visits": session.plan.scheduled_visits.select_related("appointment"),
            "verification": signatures_for(session)
            .filter(meaning=Signature.Meaning.VERIFY)
            .first(),
        },
    )


def aftercare_pdf(request, pk):
    """The aftercare sheet handed to the patient after a session (WeasyPrint)."""
    session = selectors.session_get(user=request.user, pk=pk)
    html = render_to_string(
        "treatment/aftercare.html",
        {
            "session": session,
            "patient": session.patient,
            "plan": session.plan,
            "harvests": session.plan.harvests.all(),
            "punch": session.plan.harvests.filter(
                site__in=[Harvest.Site.RETROAURICULAR_PUNCH, Harvest.Site.OCCIPITAL_PUNCH]
            ).exists(),
            "visits": session.plan.scheduled_visits.filter(completed=False),
            "clinic_name": settings.ANAGEN_CLINIC_NAME,
            "site": session.patient.site,
            "printed_at": timezone.localtime(),
        },
    )
    from weasyprint import HTML

    pdf = HTML(string=html).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="aftercare-{session.patient.mrn}-session{session.session_number}.pdf"'
    )
    return response


# --- adverse events and follow-ups ---------------------------------------------------------


@submit_once
def adverse_event_new(request, patient_pk):
    patient = patient_get(user=request.user, pk=patient_pk)
    plan_pk = request.GET.get("plan") or request.POST.get("plan") or ""
    plan = (
        selectors.plan_get(user=request.user, pk=int(plan_pk))
        if plan_pk.isdigit() and patient.plans.filter(pk=int(plan_pk)).exists()
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
