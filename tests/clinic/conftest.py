from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from anagen.clinic.accounts.models import Site, User
from anagen.clinic.accounts.roles import Role
from anagen.clinic.patients.services import patient_create

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def site(db):
    return Site.objects.create(code="LDN", name="London")


@pytest.fixture
def other_site(db):
    return Site.objects.create(code="MAN", name="Manchester")


def make_user(role: str, *sites: Site, email: str | None = None, **extra) -> User:
    email = email or f"{role}-{'-'.join(s.code for s in sites) or 'none'}@example.test".lower()
    user = User.objects.create_user(
        username=email,
        email=email,
        password=PASSWORD,
        role=role,
        first_name=role.replace("_", " ").title(),
        last_name="Tester",
        **extra,
    )
    user.sites.set(sites)
    return user


@pytest.fixture
def staff(site):
    """One member of staff per role, all working at ``site``."""
    return {role: make_user(role, site) for role in Role.values}


@pytest.fixture
def physician(staff):
    return staff[Role.PHYSICIAN]


@pytest.fixture
def coordinator(staff):
    return staff[Role.COORDINATOR]


@pytest.fixture
def patient(site, coordinator):
    return patient_create(
        actor=coordinator,
        site=site,
        given_name="Ada",
        family_name="Quill",
        date_of_birth=date(1988, 4, 2),
        sex="female",
        phone="+44 20 7946 0000",
        email="ada.quill@example.test",
    )


@pytest.fixture
def tomorrow_10():
    day = timezone.localdate() + timedelta(days=1)
    return timezone.make_aware(timezone.datetime(day.year, day.month, day.day, 10, 0))
