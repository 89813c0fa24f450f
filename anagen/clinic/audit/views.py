from __future__ import annotations

from typing import cast

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

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


def network_audit(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    reader = _reader(request)
    form = AuditFilterForm(request.GET or None, reader=reader, network=True)
    log = network_audit_log(user=reader, wanted=form.wanted())
    if wants_csv(request):
        return _csv(request, log, scope="network", form=form, name="audit-log")
    return _page(request, "audit/network.html", log, form)
