"""The treatment team and a consented plan for a candidate patient."""

import pytest

from anagen.clinic.accounts.roles import Role
from tests.clinic.treatment_helpers import consented_plan, make_candidate


@pytest.fixture
def team(staff):
    return staff[Role.PHYSICIAN], staff[Role.NURSE], staff[Role.LAB_TECHNICIAN]


@pytest.fixture
def candidate(patient, staff):
    """The shared patient, assessed as a candidate (treatment needs it)."""
    make_candidate(staff[Role.PHYSICIAN], patient)
    return patient


@pytest.fixture
def plan(team, candidate):
    physician, nurse, _ = team
    return consented_plan(physician, nurse, candidate)
