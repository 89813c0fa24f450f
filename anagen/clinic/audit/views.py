from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render

from anagen.clinic.accounts.models import User
from anagen.clinic.common.csv_export import csv_response, wants_csv
from anagen.clinic.patients.selectors import patient_get

from .export import CSV_HEADER, csv_rows, logged
from .forms import AuditFilterForm
from .selectors import PAGE_SIZE, AuditEntry, AuditLog, network_audit_log, patient_audit_log


def _reader(request: HttpRequest) -> User:
    # RoleAccessMiddleware lets only signed-in staff holding the page's permission reach here.
    return cast(User, request.user)


def _csv(request: HttpRequest, log: AuditLog, *, scope: str, form: AuditFilterForm, name: str):
    logged(user_id=request.user.pk, scope=scope, wanted=form.wanted(), rows=log.count())
    return csv_response(request, name=name, header=CSV_HEADER, rows=csv_rows(log.in_time_order()))


def _page(
    request: HttpRequest,
    template: str,
    log: AuditLog,
    form: AuditFilterForm,
    query: str | None = None,
    **context,
):
    paginator: Paginator[AuditEntry] = Paginator(log, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    if query is None:  # the filters are the URL's
        kept = request.GET.copy()
        kept.pop("page", None)
        kept.pop("format", None)
        query = kept.urlencode()
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "entries": page.object_list,
            "query": query,
            **context,
        },
    )


def patient_audit(request: HttpRequest, pk: int) -> HttpResponse | StreamingHttpResponse:
    reader = _reader(request)
    patient = patient_get(user=reader, pk=pk)
    form = AuditFilterForm(request.GET or None, reader=reader, network=False)
    log = patient_audit_log(patient=patient, wanted=form.wanted())
    if wants_csv(request):
        return _csv(request, log, scope="patient", form=form, name=f"audit-{patient.mrn}")
    return _page(request, "audit/patient.html", log, form, patient=patient)


#: Session key of the network log's filters. They can name a patient (MRN), so they are posted
#: and kept in the session, never put in a URL, like the patient search.
NETWORK_FILTER_KEY = "audit_network_filter"


def network_audit(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    reader = _reader(request)
    stored = request.session.get(NETWORK_FILTER_KEY)
    in_force = AuditFilterForm(stored or None, reader=reader, network=True)
    if stored and not in_force.is_valid():
        # e.g. the staff member it named can no longer be chosen: say so rather than widen it
        request.session.pop(NETWORK_FILTER_KEY, None)
        messages.warning(request, "The saved filter no longer applies and was cleared.")
        in_force = AuditFilterForm(None, reader=reader, network=True)
    form = in_force
    if request.method == "POST":
        if "clear" in request.POST:
            request.session.pop(NETWORK_FILTER_KEY, None)
            return redirect("audit:network")
        posted = AuditFilterForm(request.POST, reader=reader, network=True)
        if posted.is_valid():
            request.session[NETWORK_FILTER_KEY] = {
                name: request.POST.get(name, "") for name in posted.fields
            }
            return redirect("audit:network")
        form = posted  # shown with its errors; the filter in force stays in force
    log = network_audit_log(user=reader, wanted=in_force.wanted())
    if wants_csv(request):
        return _csv(request, log, scope="network", form=in_force, name="audit-log")
    # The pager's links carry the page only: the filters are in the session.
    return _page(request, "audit/network.html", log, form, query="")
