from __future__ import annotations

import pytest

from anagen.clinic.accounts.models import Site, User
from anagen.clinic.accounts.roles import Role

from .factories import (
    PASSWORD,
    PatientFactory,
    SiteFactory,
    UserFactory,
    staff_at,
    tomorrow_at,
)

__all__ = ["PASSWORD", "make_user"]


@pytest.fixture
def site(db):
    return SiteFactory(code="LDN")


@pytest.fixture
def other_site(db):
    return SiteFactory(code="MAN")


def make_user(role: str, *sites: Site, email: str | None = None, **extra) -> User:
    """A new member of staff (``UserFactory.at``); kept for the tests that import it."""
    if email:
        extra.update(email=email, username=email)
    return UserFactory.at(role, *sites, **extra)


@pytest.fixture
def staff(site):
    """One member of staff per role, all working at ``site``."""
    return staff_at(site)


@pytest.fixture
def physician(staff):
    return staff[Role.PHYSICIAN]


@pytest.fixture
def coordinator(staff):
    return staff[Role.COORDINATOR]


@pytest.fixture
def patient(site, coordinator):
    return PatientFactory(site=site, created_by=coordinator, email="ada.quill@example.test")


@pytest.fixture
def tomorrow_10():
    return tomorrow_at(10)
