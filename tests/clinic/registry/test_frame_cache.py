"""The cohort frame and plot are kept per outcome-table version: a repeat view reads the cache,
and any change to the outcome table (a patient's rows rebuilt) is seen at once."""

from __future__ import annotations

import pytest
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.registry import selectors
from anagen.clinic.registry.models import OutcomeRecord
from tests.clinic.registry.seed import seed_patient

pytestmark = pytest.mark.django_db


def test_a_rebuilt_patient_is_seen_and_a_repeat_is_cached(
    staff, site, django_assert_max_num_queries
):
    physician = staff[Role.PHYSICIAN]
    seed_patient(physician, site, n=1, densities={0: 100.0, 90: 105.0, 180: 110.0})
    first = selectors.outcome_frame(user=physician, columns=["density_per_cm2"])
    with django_assert_max_num_queries(3):  # the version and the user's sites, no rows
        again = selectors.outcome_frame(user=physician, columns=["density_per_cm2"])
    assert again.equals(first)
    seed_patient(physician, site, n=2, densities={0: 90.0, 90: 110.0})
    grown = selectors.outcome_frame(user=physician, columns=["density_per_cm2"])
    assert len(grown) == OutcomeRecord.objects.count() > len(first)


def test_the_plot_follows_the_data(client, staff, site):
    physician = staff[Role.PHYSICIAN]
    seed_patient(physician, site, n=1, densities={0: 100.0, 90: 105.0, 180: 110.0})
    client.force_login(physician)
    first = client.get(reverse("registry:plot")).content
    assert client.get(reverse("registry:plot")).content == first
    seed_patient(physician, site, n=2, densities={0: 80.0, 90: 120.0, 180: 160.0})
    assert client.get(reverse("registry:plot")).content != first
