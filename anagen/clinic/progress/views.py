import base64
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from anagen.clinic.imaging.models import GlobalPhoto
from anagen.clinic.registry.measures import terminal_min_um

from . import selectors, services
from .forecast import NOTE


def _sites(patient):
    """The sites with their snapshot state; an outdated one is queued for recompute (once)."""
    sites = selectors.site_progress(patient=patient)
    for item in sites:
        if item.updating:
            services.snapshot_request(target_site=item.site, fingerprint=item.fingerprint)
    return sites


def progress(request, patient_pk):
    patient = selectors.progress_patient_get(user=request.user, pk=patient_pk)
    visits = selectors.imaging_visits(patient=patient)
    return render(
        request,
        "progress/progress.html",
        {
            "patient": patient,
            "sites": _sites(patient),
            "visits": visits,
            "events": selectors.adverse_events(patient=patient),
            "views": selectors.photo_views(patient=patient),
            "later_visits": [v for v in visits if v.photos.all()][1:],
            "comparison": selectors.comparison(patient=patient),
            "note": NOTE,
            "threshold": terminal_min_um(),
        },
    )


def plot(request, patient_pk, site_pk):
    site = selectors.target_site_get(user=request.user, patient_pk=patient_pk, site_pk=site_pk)
    response = HttpResponse(selectors.snapshot_plot(target_site=site), content_type="image/png")
    # The URL carries the snapshot's fingerprint, so a new plot has a new URL.
    response["Cache-Control"] = "private, max-age=3600"
    return response


def compare(request, patient_pk):
    patient = selectors.progress_patient_get(user=request.user, pk=patient_pk)
    view = request.GET.get("view") or None
    visit = request.GET.get("visit") or ""
    if visit and not (visit.isdecimal() and len(visit) <= 18):
        raise Http404("No such visit")
    pair = selectors.comparison(patient=patient, view=view, visit_pk=int(visit) if visit else None)
    visits = selectors.imaging_visits(patient=patient)
    return render(
        request,
        "progress/compare.html",
        {
            "patient": patient,
            "comparison": pair,
            "views": selectors.photo_views(patient=patient),
            "later_visits": [v for v in visits if v.photos.all()][1:],
            "chosen_view": view or (pair.view if pair else ""),
            "chosen_visit": int(visit) if visit else (pair.after.visit_id if pair else None),
        },
    )


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _photo_uri(photo: GlobalPhoto) -> str:
    """A photo scaled down for print (the PDF stays small), as a data URI."""
    import io

    try:
        with photo.image.open("rb") as handle, Image.open(handle) as image:
            image.thumbnail((900, 900))
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, "JPEG", quality=82)
    except (OSError, UnidentifiedImageError, ValueError):
        return ""
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def report_html(*, patient, printed_by) -> str:
    sites = _sites(patient)
    plots = {}
    for item in sites:
        if item.current and item.points:
            plots[item.site.pk] = _data_uri(selectors.snapshot_plot(target_site=item.site))
    pairs = [
        {"pair": p, "before": _photo_uri(p.before), "after": _photo_uri(p.after)}
        for p in selectors.report_pairs(patient=patient)
    ]
    return render_to_string(
        "progress/report.html",
        {
            "patient": patient,
            "sites": [{"item": item, "plot": plots.get(item.site.pk)} for item in sites],
            "pairs": pairs,
            "events": selectors.adverse_events(patient=patient),
            "clinic_name": settings.ANAGEN_CLINIC_NAME,
            "printed_at": timezone.localtime(),
            "printed_by": printed_by,
            "note": NOTE,
            "threshold": terminal_min_um(),
        },
    )


def report_pdf(request, patient_pk):
    patient = selectors.progress_patient_get(user=request.user, pk=patient_pk)
    html = report_html(patient=patient, printed_by=request.user)
    from weasyprint import HTML

    pdf = HTML(string=html, base_url=str(Path(__file__).parent)).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="progress-{patient.mrn}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
