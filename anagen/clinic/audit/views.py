from __future__ import annotations

from typing import cast

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


def _page(request: HttpRequest, template: str, log: AuditLog, form: AuditFilterForm, **context):
    paginator: Paginator[AuditEntry] = Paginator(log, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "entries": page.object_list,
            "query": query.urlencode(),
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
    if request.method == "POST":
        posted = AuditFilterForm(request.POST, reader=reader, network=True)
        if "clear" in request.POST:
            request.session.pop(NETWORK_FILTER_KEY, None)
            return redirect("audit:network")
        if posted.is_valid():
            request.session[NETWORK_FILTER_KEY] = {
                name: request.POST.get(name, "") for name in posted.fields
            }
            return redirect("audit:network")
        form = posted  # shown with its errors; the stored filter stays in force
    else:
        stored = request.session.get(NETWORK_FILTER_KEY)
        form = AuditFilterForm(stored or None, reader=reader, network=True)
    log = network_audit_log(user=reader, wanted=form.wanted())
    if wants_csv(request):
        return _csv(request, log, scope="network", form=form, name="audit-log")
    return _page(request, "audit/network.html", log, form)
