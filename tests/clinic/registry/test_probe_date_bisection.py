"""Probe: the export shifts every date of a patient by a secret offset, but a researcher could
undo it by narrowing the cohort to one real baseline date (``baseline_from``/``baseline_to``):
the rows that come back name the patient hash whose real baseline is that day, and real minus
shifted gives the offset, hence every real date of the patient. The same works through the
cohort pages (a cohort of one, its exact values matched to the export). Whoever may not read
charts (the researcher) cannot narrow a cohort by real dates."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.registry.selectors import Cohort, export_frame, outcome_frame
from tests.clinic.conftest import make_user
from tests.clinic.registry.seed import seed_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(site, staff):
    nurse = staff[Role.NURSE]
    return [
        seed_patient(
            nurse,
            site,
            n=i,
            densities={0: 100.0 + i, 92: 110.0 + 5 * i},
            baseline_on=date(2024, 3, 1 + 10 * i),
        )
        for i in range(2)
    ]


def test_a_researcher_cannot_select_patients_by_a_real_date(two, site, client, settings):
    settings.ANAGEN_EXPORT_KEY = "probe-key-0123456789abcdef"
    researcher = make_user(Role.RESEARCHER, site, email="bisect@example.test")
    one_day = Cohort(baseline_from=date(2024, 3, 1), baseline_to=date(2024, 3, 1))
    # The selectors ignore real-date criteria for someone who may not read charts.
    assert len(export_frame(user=researcher, cohort=one_day)) == 4
    assert outcome_frame(user=researcher, cohort=one_day)["patient_id"].nunique() == 2
    client.force_login(researcher)
    query = {"baseline_from": "2024-03-01", "baseline_to": "2024-03-01"}
    csv = client.get(reverse("registry:export_file", args=["csv"]), query).content
    assert pd.read_csv(io.BytesIO(csv))["patient_hash"].nunique() == 2
    for name in ("registry:home", "registry:export"):
        html = client.get(reverse(name)).content.decode()
        assert 'name="baseline_from"' not in html and 'name="baseline_to"' not in html


def test_clinicians_still_narrow_by_baseline_date(two, physician, client):
    one_day = Cohort(baseline_from=date(2024, 3, 1), baseline_to=date(2024, 3, 1))
    assert outcome_frame(user=physician, cohort=one_day)["patient_id"].nunique() == 1
    client.force_login(physician)
    assert 'name="baseline_from"' in client.get(reverse("registry:home")).content.decode()
