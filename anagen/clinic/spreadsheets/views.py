"""The staff page of the spreadsheet import: upload, read the dry run, apply."""

from __future__ import annotations

import base64
import binascii
import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from anagen.clinic.accounts.access import sites_for
from anagen.clinic.common.forms import submit_once

from .forms import TableUploadForm
from .services import KIND_LABELS, TableRefused, table_import_apply, table_import_plan


def _checked(request: HttpRequest) -> dict[str, object] | None:
    """The checked table sent back by the dry-run page (None if it did not come back intact)."""
    try:
        kind = request.POST["kind"]
        site = sites_for(user=request.user).get(pk=int(request.POST["site"]))  # type: ignore[arg-type]
        data = base64.b64decode(request.POST["data"], validate=True)
        mapping = json.loads(request.POST.get("mapping_json") or "{}")
        filename = request.POST["filename"]
    except (KeyError, ValueError, binascii.Error, LookupError, Exception):
        return None
    if kind not in KIND_LABELS or not isinstance(mapping, dict):
        return None
    return {"kind": kind, "site": site, "data": data, "filename": filename, "mapping": mapping}


@submit_once
def table_import(request: HttpRequest) -> HttpResponse:
    user = request.user
    report = None
    checked: dict[str, object] | None = None
    form = TableUploadForm(user=user)  # type: ignore[arg-type]
    if request.method == "POST" and request.POST.get("action") == "apply":
        sent = _checked(request)
        if sent is None:
            messages.error(request, "The checked table did not come back intact: upload it again.")
        else:
            try:
                done = table_import_apply(actor=user, **sent)  # type: ignore[arg-type]
            except TableRefused as refused:
                report = refused.report
            else:
                messages.success(
                    request, f"Imported {len(done.rows)} row{'s' if len(done.rows) != 1 else ''}."
                )
                return redirect("spreadsheets:import")
    elif request.method == "POST":
        form = TableUploadForm(request.POST, request.FILES, user=user)  # type: ignore[arg-type]
        if form.is_valid():
            filename, data = form.cleaned_data["table"]
            sent = {
                "kind": form.cleaned_data["kind"],
                "site": form.cleaned_data["site"],
                "data": data,
                "filename": filename,
                "mapping": form.cleaned_data["mapping"],
            }
            report = table_import_plan(actor=user, **sent)  # type: ignore[arg-type]
            if report.ok:
                checked = {
                    "kind": sent["kind"],
                    "site": form.cleaned_data["site"].pk,
                    "data": base64.b64encode(data).decode(),
                    "filename": filename,
                    "mapping_json": json.dumps(sent["mapping"]),
                }
    return render(
        request,
        "spreadsheets/import.html",
        {
            "form": form,
            "report": report,
            "checked": checked,
            "apply_count": len(report.rows) if checked and report else 0,
            "kinds": KIND_LABELS,
        },
        status=400 if report is not None and not report.ok else 200,
    )
