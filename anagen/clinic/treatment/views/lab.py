"""The laboratory: the lab's home, bench, cryo inventory, worklist, product pages and labels."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_POST

from anagen.clinic.audit.models import Signature
from anagen.clinic.audit.signatures import current_signature, signatures_for
from anagen.clinic.common.csv_export import csv_response, wants_csv
from anagen.clinic.common.forms import add_service_errors, submit_once
from anagen.identity import LabelData, label_pdf, label_svg, parse_product_id

from .. import selectors, services
from ..forms import (
    DiscardForm,
    ReleaseForm,
    ResultsForm,
    SplitForm,
    StoreForm,
    ThawForm,
)
from ..models import (
    CellProduct,
)

# --- laboratory ----------------------------------------------------------------------------


def product_display(product: CellProduct | None) -> str:
    """The product identifier as printed on its label (spaced groups), for messages."""
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
        product.display_id = product_display(product)
        product.expired_now = product.expires_at <= now
        product.expires_soon = (
            not product.expired_now and (product.expires_at - now).total_seconds() < 6 * 3600
        )
    if wants_csv(request):
        return csv_response(
            request,
            name="lab-bench",
            header=(
                "Product",
                "MRN",
                "Method",
                "Status",
                "Storage",
                "Location",
                "Expires",
                "Viable cells",
            ),
            rows=(
                (
                    p.display_id,
                    p.patient.mrn,
                    p.get_method_display(),
                    p.get_status_display(),
                    p.get_storage_display(),
                    p.location,
                    p.expires_at,
                    p.viable_cells,
                )
                for p in products
            ),
        )
    return render(request, "treatment/lab_bench.html", {"products": products})


def lab_home(request):
    """The lab's home: products by status and expiry, results to enter, releases, thaws."""
    work = selectors.lab_work(user=request.user)
    if wants_csv(request):
        # One row per product the page lists (its "Products by status" tables), with what the
        # other sections say about it: results still missing, who recorded them.
        missing = {x.product.pk for x in work.results_to_enter}
        recorded_by = {
            r.line.product.pk: ", ".join(u.display_name for u in r.recorded_by)
            for r in work.awaiting_release
        }
        return csv_response(
            request,
            name="lab-home",
            header=(
                "Product",
                "MRN",
                "Patient",
                "Status",
                "Method",
                "Location",
                "Expires",
                "Expiry warning",
                "Results still missing",
                "Results recorded by",
            ),
            rows=(
                (
                    line.display_id,
                    line.product.patient.mrn,
                    line.product.patient.full_name,
                    group.label,
                    line.product.get_method_display(),
                    line.product.location,
                    line.product.expires_at,
                    line.expiry_warning,
                    ", ".join(line.product.missing_results) if line.product.pk in missing else "",
                    recorded_by.get(line.product.pk, ""),
                )
                for group in work.by_status
                for line in group.lines
            ),
        )
    return render(request, "treatment/lab_home.html", {"work": work})


def cryo_inventory(request):
    """Freezer → rack → box → position grid of the stored products; search by product code."""
    query = request.GET.get("q", "").strip()[:40]
    inventory = selectors.cryo_inventory(user=request.user, query=query)
    if wants_csv(request):
        # The boxes the page shows (with a search, only those holding a match), position by
        # position; a product recorded off the grid after the box's grid.
        matches = {p.pk for p in inventory.matches}
        return csv_response(
            request,
            name="cryo-inventory",
            header=(
                "Site",
                "Freezer",
                "Rack",
                "Box",
                "Position",
                "Product",
                "MRN",
                "Expires",
                "Matches the search",
            ),
            rows=(
                (
                    freezer.site_name,
                    freezer.name,
                    rack.name,
                    box.name,
                    position,
                    product.product_code,
                    product.patient.mrn,
                    product.expires_at,
                    "yes" if product.pk in matches else "",
                )
                for freezer in inventory.freezers
                for rack in freezer.racks
                for box in rack.boxes
                for position, product in [
                    *(
                        (f"{c.number} ({c.label})", c.product)
                        for _, cells in box.rows
                        for c in cells
                        if c.product is not None
                    ),
                    *((f"{p.position} (off the grid)", p) for p in box.off_grid),
                ]
            ),
        )
    return render(request, "treatment/cryo_inventory.html", {"inventory": inventory})


def _worklist_context(request) -> dict:
    return {
        "work": selectors.lab_work(user=request.user),
        "today": timezone.localdate(),
        "printed_at": timezone.localtime(),
        "clinic_name": settings.ANAGEN_CLINIC_NAME,
    }


def _worklist_rows(work: selectors.LabWork):
    """The worklist's tasks in its order: (task, product, MRN, detail, expires)."""

    def task(name: str, line: selectors.LabLine, detail: str = "") -> tuple:
        product = line.product
        return (name, line.display_id, product.patient.mrn, detail, product.expires_at)

    for line in work.to_process:
        missing = ", ".join(line.product.missing_results)
        yield task(
            "Process", line, f"{line.product.get_method_display()}; still missing: {missing}"
        )
    for line in work.results_pending:
        yield task(
            "Enter results", line, "Still missing: " + ", ".join(line.product.missing_results)
        )
    for r in work.awaiting_release:
        detail = "Results by (may not release): " + (
            ", ".join(u.display_name for u in r.recorded_by) or "—"
        )
        if r.gates_failed:
            detail += "; criteria not met: " + ", ".join(r.gates_failed)
        yield task("Release", r.line, detail)
    for t in work.thaws_today:
        session = timezone.localtime(t.appointment.starts_at).strftime("%H:%M")
        kind = t.appointment.get_kind_display()
        yield task("Thaw", t.line, f"{session} {kind}; at {t.line.product.location}")
    for line in work.thawed:
        yield task("Use thawed by", line)


def lab_worklist(request):
    """Today's lab work as a print-friendly page (the browser's print, or the PDF)."""
    context = _worklist_context(request)
    if wants_csv(request):
        return csv_response(
            request,
            name="lab-worklist",
            header=("Task", "Product", "MRN", "Detail", "Expires"),
            rows=_worklist_rows(context["work"]),
        )
    return render(request, "treatment/lab_worklist.html", context)


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
        "display_id": product_display(product),
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
