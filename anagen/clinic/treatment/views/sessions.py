"""The administration session, its page and the aftercare sheet."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone

from anagen.clinic.audit.models import Signature
from anagen.clinic.audit.signatures import signatures_for
from anagen.clinic.common.forms import add_service_errors

from .. import selectors, services
from ..forms import (
    SessionForm,
)
from ..models import (
    MAX_CELLS_PER_POINT_WARNING,
    CellProduct,
    Harvest,
)
from .lab import product_display

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
            "released": [(p, product_display(p)) for p in released],
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
            "product_display": product_display(session.product),
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
