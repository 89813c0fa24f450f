"""Probe: a physician flagged as reviewer who took part in a patient's care (assessed them,
wrote the plan, harvested, recorded a visit report) has seen the dated chart and photographs,
so their score would not be blinded: the patient's pairs are never offered to them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.registry.services import visit_report_record
from anagen.clinic.review import selectors, services
from anagen.clinic.review.error_codes import ReviewErrorCode as Code
from anagen.clinic.review.models import ReviewPair
from tests.clinic.conftest import make_user
from tests.clinic.refusals import raises_code
from tests.clinic.review.test_review import _photos
from tests.clinic.treatment_helpers import assess, consented_plan, harvest

pytestmark = pytest.mark.django_db


def _pair(staff, patient, physician) -> ReviewPair:
    _photos(staff[Role.NURSE], patient)
    services.review_pairs_create(actor=physician, patient=patient)
    return ReviewPair.objects.get(patient=patient)


@pytest.mark.parametrize("involvement", ["assessed", "planned", "harvested", "reported"])
def test_a_physician_involved_in_care_is_not_offered_the_pair(
    involvement, client, staff, site, patient, physician
):
    involved = make_user(Role.PHYSICIAN, site, email="involved@example.test", is_reviewer=True)
    nurse = staff[Role.NURSE]
    if involvement == "assessed":
        assess(involved, patient)
    elif involvement in ("planned", "harvested"):
        plan = consented_plan(involved if involvement == "planned" else physician, nurse, patient)
        if involvement == "harvested":
            harvest(involved, plan)
    pair = _pair(staff, patient, physician)
    if involvement == "reported":
        visit_report_record(
            actor=involved,
            visit=pair.after.visit,
            pull_test_hairs=3,
            satisfaction=None,
            shedding=None,
            global_assessment=2,
        )
    assert pair not in selectors.review_queue(user=involved)
    client.force_login(involved)
    assert pair.token not in client.get(reverse("review:queue")).content.decode()
    assert client.get(reverse("review:pair", args=[pair.token])).status_code == 404
    assert client.get(reverse("review:pair_image", args=[pair.token, "left"])).status_code == 404
    with raises_code(Code.TREATING_PHYSICIAN):
        services.review_score_record(actor=involved, pair=pair, right_vs_left=1)
    # A reviewer who had no part in the patient's care still scores the pair.
    assert pair in selectors.review_queue(user=staff[Role.REVIEWER])
