"""Writes of the blinded review: making before/after pairs and recording a reviewer's score."""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction

from anagen.clinic.accounts.access import require_site_access, sites_for
from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import Perm, require
from anagen.clinic.imaging.models import GlobalPhoto
from anagen.clinic.patients.models import Patient

from . import selectors
from .error_codes import ReviewErrorCode as Code
from .error_codes import refusal
from .models import ReviewPair, ReviewScore
from .orientation import SCALE, after_vs_before

_random = secrets.SystemRandom()


def _pairs_for(patient_id: int, actor: User) -> int:
    """Make the missing pairs of one patient: each view's first photo against every later one."""
    photos = (
        GlobalPhoto.objects.filter(visit__patient_id=patient_id)
        .select_related("visit")
        .order_by("view", "visit__taken_on", "pk")
    )
    by_view: dict[str, list[GlobalPhoto]] = {}
    for photo in photos:
        by_view.setdefault(photo.view, []).append(photo)
    made = 0
    for view, series in by_view.items():
        before = series[0]
        for after in series[1:]:
            if after.visit.taken_on <= before.visit.taken_on:
                continue  # same day as baseline: not a before/after pair
            _, created = ReviewPair.objects.get_or_create(
                before=before,
                after=after,
                defaults={
                    "patient_id": patient_id,
                    "view": view,
                    "after_on_right": _random.random() < 0.5,
                    "created_by": actor,
                },
            )
            made += created
    return made


@transaction.atomic
def review_pairs_create(*, actor: User, patient: Patient | None = None) -> int:
    """Offer before/after photo pairs for blinded review; returns how many pairs are new.

    For one patient, or for every patient of the actor's sites with a baseline photo and a
    later photo of the same view. Pairs already made are kept as they are (their side order
    never changes).
    """
    require(actor, Perm.REVIEW_PAIRS_CREATE)
    if patient is not None:
        require_site_access(user=actor, site_id=patient.site_id)
        patient_ids = [patient.pk]
    else:
        patient_ids = sorted(
            set(
                GlobalPhoto.objects.filter(
                    visit__patient__site__in=sites_for(user=actor)
                ).values_list("visit__patient_id", flat=True)
            )
        )
    return sum(_pairs_for(pid, actor) for pid in patient_ids)


@transaction.atomic
def review_score_record(*, actor: User, pair: ReviewPair, right_vs_left: int) -> ReviewScore:
    """Keep a reviewer's answer ("the right image compared with the left", −3…+3) and its
    after-versus-before score. Once per reviewer and pair; never changed afterwards."""
    require(actor, Perm.REVIEW_SCORE)
    pair = ReviewPair.objects.select_for_update().select_related("patient").get(pk=pair.pk)
    require_site_access(user=actor, site_id=pair.patient.site_id)
    if selectors.treated_by(actor).filter(pk=pair.patient_id).exists():
        raise refusal(
            "You treated this patient, so your score would not be blinded.",
            Code.TREATING_PHYSICIAN,
        )
    if right_vs_left not in SCALE:
        raise refusal("Choose a score from −3 to +3.", Code.SCORE_RANGE, "score")
    if pair.scores.filter(reviewer=actor).exists():
        raise refusal("You have already scored this pair.", Code.ALREADY_SCORED)
    score = ReviewScore(
        pair=pair,
        reviewer=actor,
        right_vs_left=right_vs_left,
        after_vs_before=after_vs_before(
            right_vs_left=right_vs_left, after_on_right=pair.after_on_right
        ),
    )
    try:
        with transaction.atomic():
            score.save()
    except IntegrityError:  # a concurrent double submission won the unique constraint
        raise refusal("You have already scored this pair.", Code.ALREADY_SCORED) from None
    return score


@transaction.atomic
def review_pairs_create_scheduled() -> int:
    """The nightly job: pairs for every patient of every site, made by the system actor."""
    from anagen.clinic.accounts.system import system_actor

    patient_ids = sorted(set(GlobalPhoto.objects.values_list("visit__patient_id", flat=True)))
    if not patient_ids:
        return 0
    actor = system_actor()
    return sum(_pairs_for(pid, actor) for pid in patient_ids)
