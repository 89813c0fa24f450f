"""The reviewer's pages: the queue and one blinded pair. Nothing here names the patient."""

from __future__ import annotations

import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from PIL import Image, ImageOps

from anagen.clinic.common.csv_export import csv_response, wants_csv
from anagen.clinic.common.forms import add_service_errors, submit_once
from anagen.clinic.common.uploads import strict_image_decoding
from anagen.clinic.patients.selectors import patient_get

from . import selectors, services
from .forms import ScoreForm

#: Longest side of a photo shown for review (pixels): enough to judge, no original file.
REVIEW_MAX_SIDE = 1600


def queue(request):
    pairs = list(selectors.review_queue(user=request.user))
    if wants_csv(request):
        # Blinded like the page: the pair's place in the queue and its view, nothing more.
        return csv_response(
            request,
            name="review-queue",
            header=("Pair", "View"),
            rows=((n, p.get_view_display()) for n, p in enumerate(pairs, start=1)),
        )
    return render(request, "review/queue.html", {"pairs": pairs})


@submit_once
def pair(request, token):
    pair = selectors.pair_get(user=request.user, token=token)
    form = ScoreForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.review_score_record(
                actor=request.user, pair=pair, right_vs_left=form.cleaned_data["score"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Score saved.")
            following = selectors.review_queue(user=request.user).first()
            if following is not None:
                return redirect("review:pair", token=following.token)
            return redirect("review:queue")
    remaining = selectors.review_queue(user=request.user).count()
    return render(
        request,
        "review/pair.html",
        {
            "pair": pair,
            "form": form,
            "scored": selectors.scored_by(user=request.user, pair=pair),
            "remaining": remaining,
        },
    )


def pair_image(request, token, side):
    if side not in ("left", "right"):
        raise Http404("No such side")
    pair = selectors.pair_get(user=request.user, token=token)
    photo = selectors.pair_photo(pair=pair, side=side)
    # Re-encoded from the pixels only: no EXIF (camera time, GPS, owner), no file name.
    with photo.image.open("rb") as stored, strict_image_decoding(), Image.open(stored) as image:
        upright = ImageOps.exif_transpose(image).convert("RGB")
    upright.thumbnail((REVIEW_MAX_SIDE, REVIEW_MAX_SIDE))
    clean = Image.new("RGB", upright.size)
    clean.paste(upright)
    buffer = io.BytesIO()
    clean.save(buffer, "JPEG", quality=88)
    response = HttpResponse(buffer.getvalue(), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def pairs_create(request):
    """A physician offers a patient's before/after photos for blinded review."""
    patient_pk = request.POST.get("patient", "")
    if not (patient_pk.isdecimal() and len(patient_pk) <= 18):
        raise Http404("No such patient")
    patient = patient_get(user=request.user, pk=int(patient_pk))
    try:
        made = services.review_pairs_create(actor=request.user, patient=patient)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"{made} new photo pair{'s' if made != 1 else ''} offered for blinded review."
            if made
            else "No new before/after photo pairs: every pair is already offered.",
        )
    back = request.POST.get("visit", "")
    if (
        back.isdecimal()
        and len(back) <= 18
        and patient.imaging_visits.filter(pk=int(back)).exists()
    ):
        return redirect("imaging:visit", pk=int(back))
    return redirect("progress:patient", patient_pk=patient.pk)
