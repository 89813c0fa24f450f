"""Blinded photographic review: anonymous before/after pairs in a stored random order, scored by
a reviewer (role, or a physician flagged by an administrator) who sees nothing else and is never
offered a patient they treated; scores are append-only and feed the outcome table."""

from __future__ import annotations

import io
import re
import uuid
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from anagen.clinic.accounts.roles import Role
from anagen.clinic.imaging import services as imaging
from anagen.clinic.imaging.models import Device
from anagen.clinic.patients.services import patient_create
from anagen.clinic.registry.models import OutcomeRecord
from anagen.clinic.registry.services import outcomes_refresh
from anagen.clinic.review import selectors, services
from anagen.clinic.review.error_codes import ReviewErrorCode as Code
from anagen.clinic.review.models import ReviewPair, ReviewScore
from anagen.clinic.review.orientation import after_vs_before
from tests.clinic.conftest import make_user
from tests.clinic.imaging_helpers import UM_PER_PX, phantom_png, upload
from tests.clinic.refusals import raises_code
from tests.clinic.treatment_helpers import administer, consented_plan, released_product

pytestmark = pytest.mark.django_db

BASELINE = date.today() - timedelta(days=200)
LATER = date.today() - timedelta(days=100)


def _jpeg_with_exif(seed: int) -> bytes:
    """A photo as a camera writes it: EXIF with a date and the owner's name."""
    image = Image.open(io.BytesIO(phantom_png(seed, width=320, height=240))).convert("RGB")
    exif = Image.Exif()
    exif[0x0132] = "2025:06:01 10:11:12"  # DateTime
    exif[0x013B] = "Ada Quill"  # Artist
    exif[0x010F] = "ClinicCam"  # Make
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def _photos(actor, patient, *, views=("top",), days=(BASELINE, LATER)):
    visits = []
    for i, taken in enumerate(days):
        visit = imaging.imaging_visit_create(actor=actor, patient=patient, taken_on=taken)
        for view in views:
            imaging.photo_upload(
                actor=actor,
                visit=visit,
                view=view,
                image=upload(f"{patient.mrn}-{view}-{taken}.jpg", _jpeg_with_exif(i + 1)),
            )
        visits.append(visit)
    return visits


@pytest.fixture
def reviewer(staff):
    return staff[Role.REVIEWER]


@pytest.fixture
def pair(staff, patient, physician):
    _photos(staff[Role.NURSE], patient, views=("top", "front"))
    assert services.review_pairs_create(actor=physician, patient=patient) == 2
    return ReviewPair.objects.get(patient=patient, view="top")


# --- orientation ----------------------------------------------------------------------------


@given(
    true_change=st.integers(min_value=-3, max_value=3),
    after_on_right=st.booleans(),
)
def test_the_stored_score_is_after_versus_before_whatever_the_side(true_change, after_on_right):
    """A reviewer who sees the true change answers "right compared with left": the true change
    when the later photo is on the right, its opposite when it is on the left."""
    answer = true_change if after_on_right else -true_change
    assert after_vs_before(right_vs_left=answer, after_on_right=after_on_right) == true_change


@pytest.mark.parametrize("after_on_right", [True, False])
@pytest.mark.parametrize("answer", [-3, -1, 0, 2, 3])
def test_the_service_stores_the_answer_and_its_conversion(pair, reviewer, after_on_right, answer):
    ReviewPair.objects.filter(pk=pair.pk).update(after_on_right=after_on_right)
    pair.refresh_from_db()
    right = selectors.pair_photo(pair=pair, side="right")
    assert (right == pair.after) is after_on_right
    score = services.review_score_record(actor=reviewer, pair=pair, right_vs_left=answer)
    assert score.right_vs_left == answer
    assert score.after_vs_before == (answer if after_on_right else -answer)
    assert score.reviewer == reviewer and score.scored_at is not None


def test_pairs_are_made_once_per_view_with_a_stored_order(staff, patient, physician):
    nurse = staff[Role.NURSE]
    _photos(nurse, patient, views=("top", "vertex"), days=(BASELINE, LATER, date.today()))
    assert services.review_pairs_create(actor=physician, patient=patient) == 4
    orders = dict(ReviewPair.objects.values_list("pk", "after_on_right"))
    assert services.review_pairs_create(actor=physician, patient=patient) == 0
    assert dict(ReviewPair.objects.values_list("pk", "after_on_right")) == orders
    for p in ReviewPair.objects.select_related("before__visit", "after__visit"):
        assert p.before.view == p.after.view == p.view
        assert p.before.visit.taken_on == BASELINE < p.after.visit.taken_on
    assert services.review_pairs_create_scheduled() == 0


def test_only_a_physician_offers_pairs_and_only_at_their_sites(staff, patient, other_site):
    _photos(staff[Role.NURSE], patient)
    for role in (Role.NURSE, Role.REVIEWER, Role.COORDINATOR):
        with pytest.raises(PermissionDenied):
            services.review_pairs_create(actor=staff[role], patient=patient)
    elsewhere = make_user(Role.PHYSICIAN, other_site)
    with pytest.raises(PermissionDenied):
        services.review_pairs_create(actor=elsewhere, patient=patient)
    # Over all their sites, a physician elsewhere makes no pair of this patient.
    assert services.review_pairs_create(actor=elsewhere) == 0
    assert not ReviewPair.objects.exists()


# --- what the reviewer sees -----------------------------------------------------------------


def test_the_review_pages_never_show_who_or_when(client, pair, reviewer, patient):
    client.force_login(reviewer)
    queue = client.get(reverse("review:queue"))
    page = client.get(reverse("review:pair", args=[pair.token]))
    assert queue.status_code == page.status_code == 200
    photos = [pair.before, pair.after]
    secrets = [
        patient.given_name,
        patient.family_name,
        patient.full_name,
        patient.mrn,
        patient.email,
        patient.phone,
        *(p.image.name for p in photos),
        *(p.image.name.rsplit("/", 1)[-1] for p in photos),
        "/media/",
        reverse("imaging:photo_file", args=[pair.before.pk]),
    ]
    for taken in (BASELINE, LATER, patient.date_of_birth):
        secrets += [
            taken.isoformat(),
            f"{taken:%d %b %Y}",
            f"{taken:%d/%m/%Y}",
            f"{taken:%b. %d, %Y}",
            f"{taken:%B} {taken.day}, {taken.year}",
        ]
    for response in (queue, page):
        html = response.content.decode()
        for secret in secrets:
            assert secret not in html, secret
        # No visit label or day count either.
        assert not re.search(r"\b(baseline|before|after|day \d+|visit)\b", html, re.I), html
    # Both photos are served only through the pair's opaque token, re-encoded without EXIF.
    for side in ("left", "right"):
        url = reverse("review:pair_image", args=[pair.token, side])
        assert url in page.content.decode()
        image = client.get(url)
        assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
        assert "filename" not in image.get("Content-Disposition", "")
        body = image.content
        assert b"Ada" not in body and b"2025:06:01" not in body and b"ClinicCam" not in body
        assert not Image.open(io.BytesIO(body)).getexif()
    assert client.get(reverse("review:pair_image", args=[pair.token, "before"])).status_code == 404


def test_a_reviewer_sees_no_chart_and_no_photo_outside_the_pair(client, pair, reviewer, patient):
    client.force_login(reviewer)
    for url in (
        reverse("patients:chart", args=[patient.pk]),
        reverse("patients:list"),
        reverse("intake:home"),
        reverse("imaging:visit", args=[pair.after.visit_id]),
        reverse("progress:patient", args=[patient.pk]),
        reverse("imaging:photo_file", args=[pair.before.pk]),
        reverse("audit:patient", args=[patient.pk]),
    ):
        assert client.get(url).status_code == 403, url
    # The navigation offers only the review queue.
    html = client.get(reverse("review:queue")).content.decode()
    assert reverse("review:queue") in html
    assert reverse("patients:list") not in html and reverse("intake:day") not in html


def test_a_reviewer_signs_in_to_the_queue(client, reviewer):
    from tests.clinic.conftest import PASSWORD

    response = client.post(
        reverse("account_login"), {"login": reviewer.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("review:queue")


def test_another_sites_pairs_are_not_offered(client, pair, other_site, staff):
    elsewhere = make_user(Role.REVIEWER, other_site)
    assert not selectors.review_queue(user=elsewhere).exists()
    client.force_login(elsewhere)
    assert pair.token not in client.get(reverse("review:queue")).content.decode()
    assert client.get(reverse("review:pair", args=[pair.token])).status_code == 404
    assert client.get(reverse("review:pair_image", args=[pair.token, "left"])).status_code == 404
    assert client.post(reverse("review:pair", args=[pair.token]), {"score": "1"}).status_code == 404
    with pytest.raises(PermissionDenied):
        services.review_score_record(actor=elsewhere, pair=pair, right_vs_left=1)
    assert not ReviewScore.objects.exists()


def test_a_treating_physician_is_not_offered_their_patients_pairs(
    client, staff, site, patient, coordinator
):
    nurse, lab = staff[Role.NURSE], staff[Role.LAB_TECHNICIAN]
    treating = make_user(Role.PHYSICIAN, site, email="treating@example.test", is_reviewer=True)
    colleague = make_user(Role.PHYSICIAN, site, email="colleague@example.test", is_reviewer=True)
    plan = consented_plan(treating, nurse, patient)
    administer(treating, nurse, plan, released_product(treating, lab, plan))
    other = patient_create(
        actor=coordinator,
        site=site,
        given_name="Bo",
        family_name="Reed",
        date_of_birth=date(1980, 1, 1),
        sex="male",
        phone="+44 20 7946 0001",
    )
    _photos(nurse, patient)
    _photos(nurse, other)
    services.review_pairs_create(actor=colleague, patient=patient)
    services.review_pairs_create(actor=colleague, patient=other)
    mine = ReviewPair.objects.get(patient=patient)
    theirs = ReviewPair.objects.get(patient=other)
    assert list(selectors.review_queue(user=treating)) == [theirs]
    assert set(selectors.review_queue(user=colleague)) == {mine, theirs}
    client.force_login(treating)
    assert mine.token not in client.get(reverse("review:queue")).content.decode()
    assert client.get(reverse("review:pair", args=[mine.token])).status_code == 404
    with raises_code(Code.TREATING_PHYSICIAN):
        services.review_score_record(actor=treating, pair=mine, right_vs_left=2)
    # An unflagged physician holds no review permission at all.
    plain = make_user(Role.PHYSICIAN, site, email="plain@example.test")
    client.force_login(plain)
    assert client.get(reverse("review:queue")).status_code == 403
    with pytest.raises(PermissionDenied):
        services.review_score_record(actor=plain, pair=theirs, right_vs_left=2)


# --- scoring --------------------------------------------------------------------------------


def _token(client, pair) -> str:
    html = client.get(reverse("review:pair", args=[pair.token])).content.decode()
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def test_a_double_submission_keeps_one_score(client, pair, reviewer):
    client.force_login(reviewer)
    form_token = _token(client, pair)
    url = reverse("review:pair", args=[pair.token])
    first = client.post(url, {"score": "2", "form_token": form_token})
    again = client.post(url, {"score": "-3", "form_token": form_token})  # back + resubmit
    assert first.status_code == again.status_code == 302
    assert ReviewScore.objects.count() == 1
    # A fresh form for an already scored pair: refused, the first score stands.
    page = client.get(url).content.decode()
    assert "You have scored this pair" in page and 'name="score"' not in page
    response = client.post(url, {"score": "-3", "form_token": str(uuid.uuid4())})
    assert response.status_code == 200
    with raises_code(Code.ALREADY_SCORED):
        services.review_score_record(actor=reviewer, pair=pair, right_vs_left=-1)
    (score,) = ReviewScore.objects.all()
    assert score.right_vs_left == 2
    # Scored pairs leave the queue.
    assert pair not in selectors.review_queue(user=reviewer)


def test_scores_are_append_only_and_in_range(pair, reviewer):
    with raises_code(Code.SCORE_RANGE, "score"):
        services.review_score_record(actor=reviewer, pair=pair, right_vs_left=4)
    score = services.review_score_record(actor=reviewer, pair=pair, right_vs_left=1)
    with pytest.raises(ValueError):
        score.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewScore.objects.filter(pk=score.pk).update(right_vs_left=-3)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewScore.objects.filter(pk=score.pk).delete()
    assert ReviewScore.objects.get().right_vs_left == 1


def test_a_bad_score_post_is_shown_on_the_form(client, pair, reviewer):
    client.force_login(reviewer)
    url = reverse("review:pair", args=[pair.token])
    for bad in ("7", "x", ""):
        response = client.post(url, {"score": bad, "form_token": _token(client, pair)})
        assert response.status_code == 200
    assert not ReviewScore.objects.exists()


def test_the_blinded_mean_reaches_the_outcome_table(staff, patient, physician, site):
    nurse = staff[Role.NURSE]
    device = Device.objects.create(name="Scope", magnification="20×", um_per_px=UM_PER_PX)
    target = imaging.target_site_create(
        actor=nurse, patient=patient, zone="vertex", description="Vertex"
    )
    visits = _photos(nurse, patient)
    for i, visit in enumerate(visits):
        record = imaging.trichoscopy_upload(
            actor=nurse,
            visit=visit,
            target_site=target,
            device=device,
            image=upload("t.png", phantom_png(10 + i)),
        )
        imaging.trichoscopy_analyse(record=record)
    services.review_pairs_create(actor=physician, patient=patient)
    pair = ReviewPair.objects.get()
    first = make_user(Role.REVIEWER, site, email="r1@example.test")
    second = make_user(Role.REVIEWER, site, email="r2@example.test")
    # Both reviewers see +2 and +1 for the later photo, whichever side it was shown on.
    for reviewer, change in ((first, 2), (second, 1)):
        answer = change if pair.after_on_right else -change
        services.review_score_record(actor=reviewer, pair=pair, right_vs_left=answer)
    outcomes_refresh(patient=patient)
    rows = {r.visit_id: r for r in OutcomeRecord.objects.filter(patient=patient)}
    assert rows[visits[1].pk].blinded_review_score == pytest.approx(1.5)
    assert rows[visits[0].pk].blinded_review_score is None


def test_a_physician_offers_pairs_from_the_visit_page(client, staff, patient, physician):
    visits = _photos(staff[Role.NURSE], patient)
    client.force_login(physician)
    page = client.get(reverse("imaging:visit", args=[visits[1].pk])).content.decode()
    assert reverse("review:pairs_create") in page
    response = client.post(
        reverse("review:pairs_create"), {"patient": patient.pk, "visit": visits[1].pk}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("imaging:visit", args=[visits[1].pk])
    assert ReviewPair.objects.filter(patient=patient).count() == 1
    assert client.post(reverse("review:pairs_create"), {"patient": "x"}).status_code == 404
    client.force_login(staff[Role.NURSE])
    assert client.post(reverse("review:pairs_create"), {"patient": patient.pk}).status_code == 403
