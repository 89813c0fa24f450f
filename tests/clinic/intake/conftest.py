import pytest

from anagen.clinic.accounts.roles import Role


@pytest.fixture
def team(staff):
    return staff[Role.PHYSICIAN], staff[Role.NURSE], staff[Role.LAB_TECHNICIAN]
