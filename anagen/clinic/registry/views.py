"""Registry pages: cohort statistics, comparison, cohort PDF, what to expect, the export.

Every page reads one outcome frame per cohort (``selectors.outcome_frame``: one query, only the
columns its statistics use, ``analysis.frame_columns``) and does the statistics in pandas
(``analysis``). No page shows a name or an MRN, except the "what to expect" sheet, which a
physician prints for the patient in front of them.
"""

from __future__ import annotations

import base64
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone

from anagen.clinic.accounts.access import sites_for
from anagen.clinic.common import clock
from anagen.clinic.common.csv_export import csv_response, wants_csv
from anagen.clinic.patients.selectors import patient_get

from . import analysis, plots, selectors
from .export import FILES, KEYED, export_key_configured, logged
from .export import render as render_export
from .forms import CohortForm, MeasureForm

EXPECT_WINDOWS = (90, 180, 365)


def _cohort_form(request: HttpRequest, prefix: str | None = None) -> CohortForm:
    return CohortForm(request.GET, user=request.user, prefix=prefix)  # type: ignore[arg-type]


def _statistics(
    request: HttpRequest, form: CohortForm, measure: analysis.Measure
) -> dict[str, Any]:
    """Everything the cohort page and its PDF show (empty when the form is invalid)."""
    if not form.is_valid():
        return {"valid": False}
    cohort = form.cohort()
    user = request.user
    columns = analysis.frame_columns(measure)
    frame = selectors.outcome_frame(user=user, cohort=cohort, columns=columns)  # type: ignore[arg-type]
    summaries = analysis.summarize(frame, measure)
    scheduled = selectors.scheduled_follow_ups(user=user, cohort=cohort)  # type: ignore[arg-type]
    events, n_sessions = selectors.adverse_events_frame(user=user, cohort=cohort)  # type: ignore[arg-type]
    n_patients = len(analysis.patients(frame))
    return {
        "valid": True,
        "description": form.description(),
        "n_patients": n_patients,
        "n_rows": len(frame),
        "summaries": summaries,
        "rows": analysis.summary_rows(summaries, measure),
        "completeness": analysis.completeness(scheduled, frame, today=clock.localdate()),
        "events": analysis.event_rows(
            analysis.event_rates(events, n_patients=n_patients, n_sessions=n_sessions)
        ),
        "frame": frame,
    }


def _base_context(request: HttpRequest) -> dict[str, Any]:
    measure_form = MeasureForm(request.GET)
    measure = analysis.MEASURES[measure_form.measure_key()]
    return {
        "measure_form": measure_form,
        "measure": measure,
        "notice": analysis.INVESTIGATIONAL_NOTICE,
        "query": request.GET.urlencode(),
    }


def home(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    context = _base_context(request)
    form = _cohort_form(request)
    stats = _statistics(request, form, context["measure"])
    stats.pop("frame", None)
    if wants_csv(request) and stats["valid"]:
        return csv_response(
            request,
            name="registry-statistics",
            header=(
                "Measure",
                "Window",
                "n",
                "Missing",
                "Mean change" if context["measure"].kind != "score" else "Mean",
                "95 % CI",
                "Median",
                "IQR",
                "Mean % change",
                "Responders",
                "Responders 95 % CI (Wilson)",
            ),
            rows=(
                (
                    context["measure"].label,
                    *(
                        r[k]
                        for k in (
                            "window",
                            "n",
                            "n_missing",
                            "mean",
                            "ci",
                            "median",
                            "iqr",
                            "percent",
                            "responders",
                            "responder_ci",
                        )
                    ),
                )
                for r in stats["rows"]
            ),
        )
    return render(request, "registry/home.html", {**context, **stats, "form": form})


def plot(request: HttpRequest) -> HttpResponse:
    context = _base_context(request)
    form = _cohort_form(request)
    if not form.is_valid():
        raise Http404("No such cohort.")
    measure = context["measure"]
    user, cohort, columns = request.user, form.cohort(), analysis.frame_columns(measure)
    # Drawing 10,000 patients' lines takes a second: the picture is kept per outcome-table
    # version like the frame it is drawn from.
    key = selectors.cohort_cache_key(cohort=cohort, columns=columns)
    sites = sorted(sites_for(user=user).values_list("pk", flat=True))  # type: ignore[arg-type]
    may_date = selectors.may_select_by_real_dates(user)  # type: ignore[arg-type]
    key = f"{key}:plot:{measure.column}:{'-'.join(map(str, sites))}:{int(may_date)}"
    png = cache.get(key)
    if not isinstance(png, bytes):
        frame = selectors.outcome_frame(user=user, cohort=cohort, columns=columns)  # type: ignore[arg-type]
        png = plots.cohort_png(
            analysis.summarize(frame, measure), analysis.spaghetti(frame, measure), measure
        )
        cache.set(key, png, selectors.FRAME_CACHE_SECONDS)
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=60"
    return response


def _comparison(request: HttpRequest, measure: analysis.Measure) -> dict[str, Any]:
    form_a, form_b = _cohort_form(request, "a"), _cohort_form(request, "b")
    context: dict[str, Any] = {"form_a": form_a, "form_b": form_b}
    if not (form_a.is_valid() and form_b.is_valid()):
        return {**context, "valid": False}
    user = request.user
    columns = analysis.frame_columns(measure)
    frame_a = selectors.outcome_frame(user=user, cohort=form_a.cohort(), columns=columns)  # type: ignore[arg-type]
    frame_b = selectors.outcome_frame(user=user, cohort=form_b.cohort(), columns=columns)  # type: ignore[arg-type]
    summaries_a = analysis.summarize(frame_a, measure)
    summaries_b = analysis.summarize(frame_b, measure)
    comparisons = analysis.compare(frame_a, frame_b, measure)
    return {
        **context,
        "valid": True,
        "n_a": len(analysis.patients(frame_a)),
        "n_b": len(analysis.patients(frame_b)),
        "rows_a": analysis.summary_rows(summaries_a, measure),
        "rows_b": analysis.summary_rows(summaries_b, measure),
        "comparison_rows": analysis.comparison_rows(comparisons),
        "summaries_a": summaries_a,
        "summaries_b": summaries_b,
        "comparisons": comparisons,
    }


def compare(request: HttpRequest) -> HttpResponse:
    context = _base_context(request)
    result = _comparison(request, context["measure"])
    for key in ("summaries_a", "summaries_b", "comparisons"):
        result.pop(key, None)
    return render(request, "registry/compare.html", {**context, **result})


def compare_plot(request: HttpRequest) -> HttpResponse:
    context = _base_context(request)
    result = _comparison(request, context["measure"])
    if not result["valid"]:
        raise Http404("No such cohorts.")
    png = plots.compare_png(
        result["summaries_a"], result["summaries_b"], result["comparisons"], context["measure"]
    )
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=60"
    return response


def cohort_pdf(request: HttpRequest) -> HttpResponse:
    context = _base_context(request)
    form = _cohort_form(request)
    stats = _statistics(request, form, context["measure"])
    if not stats["valid"]:
        raise Http404("No such cohort.")
    measure = context["measure"]
    frame = stats.pop("frame")
    png = plots.cohort_png(stats["summaries"], analysis.spaghetti(frame, measure), measure)
    html = render_to_string(
        "registry/cohort_pdf.html",
        {
            **context,
            **stats,
            "plot_data": base64.b64encode(png).decode("ascii"),
            "clinic_name": settings.ANAGEN_CLINIC_NAME,
            "printed_at": timezone.localtime(),
        },
    )
    from weasyprint import HTML

    pdf = HTML(string=html).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="registry-cohort.pdf"'
    return response


def expect(request: HttpRequest, patient_pk: int) -> HttpResponse:
    """What registry patients like this one saw, or an honest "too few to say"."""
    patient = patient_get(user=request.user, pk=patient_pk)  # type: ignore[arg-type]
    measure = analysis.MEASURES["density_per_cm2"]
    likeness, frame = selectors.similar_patients_frame(
        user=request.user,  # type: ignore[arg-type]
        patient=patient,
        columns=analysis.frame_columns(measure),
    )
    summaries = analysis.summarize(frame, measure, windows=EXPECT_WINDOWS)
    threshold = int(settings.ANAGEN_EXPECT_MIN_PATIENTS)
    n_similar = analysis.spaghetti(frame, measure)["patient_id"].nunique()  # with a baseline
    enough = n_similar >= threshold
    rows = []
    for s, row in zip(summaries, analysis.summary_rows(summaries, measure), strict=True):
        rows.append({**row, "enough": s.n >= threshold, "day": f"{s.window_day:g}"})
    return render(
        request,
        "registry/expect.html",
        {
            "patient": patient,
            "likeness": likeness,
            "n_similar": n_similar,
            "threshold": threshold,
            "enough": enough,
            "rows": rows if enough else [],
            "measure": measure,
            "notice": analysis.INVESTIGATIONAL_NOTICE,
            "printed_at": timezone.localtime(),
        },
    )


def export(request: HttpRequest, *, status: int = 200) -> HttpResponse:
    form = _cohort_form(request)
    count = None
    if form.is_valid():
        count = selectors.outcome_records(user=request.user, cohort=form.cohort()).count()  # type: ignore[arg-type]
    key_missing = not export_key_configured()
    files = {k: f for k, f in FILES.items() if not (key_missing and k in KEYED)}
    return render(
        request,
        "registry/export.html",
        {
            "form": form,
            "files": files,
            "count": count,
            "query": request.GET.urlencode(),
            "key_missing": key_missing,
        },
        status=status,
    )


def export_file(request: HttpRequest, kind: str) -> HttpResponse:
    spec = FILES.get(kind)
    form = _cohort_form(request)
    if spec is None or not form.is_valid():
        raise Http404("No such export.")
    if kind in KEYED and not export_key_configured():
        # No key, no hashed ids and shifted dates: say so instead of failing with a 500.
        return export(request, status=503)
    frame = (
        selectors.export_frame(user=request.user, cohort=form.cohort())  # type: ignore[arg-type]
        if kind in ("csv", "parquet")
        else pd.DataFrame()
    )
    data = render_export(kind, frame)
    logged(user_id=request.user.pk, kind=kind, rows=len(frame))
    response = HttpResponse(data, content_type=spec.content_type)
    response["Content-Disposition"] = f'attachment; filename="{spec.name}"'
    response["Cache-Control"] = "no-store"
    return response
