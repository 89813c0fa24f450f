import random
from datetime import date, datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.roles import Role
from anagen.clinic.assessment.models import Assessment, EligibilityDecision
from anagen.clinic.intake.models import Appointment, Inquiry
from anagen.clinic.patients.models import Patient
from tests.clinic.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.slow(9)
def test_demo_clinic_loads_once_and_is_consistent():
    call_command("load_demo", patients=40)
    counts = (Patient.objects.count(), Appointment.objects.count(), Assessment.objects.count())
    assert counts[0] >= 40 and counts[2] > 10
    assert Inquiry.objects.filter(status="new").exists()
    assert Inquiry.objects.filter(status="booked", patient__isnull=False).exists()
    assert EligibilityDecision.objects.count() == counts[2]
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    # Treatment records are consistent with each other.
    from anagen.clinic.treatment.models import CellProduct, ScheduledVisit, TreatmentSession

    sessions = TreatmentSession.objects.select_related("product", "plan")
    assert sessions.exists()
    for session in sessions:
        assert session.product.patient_id == session.patient_id == session.plan.patient_id
        assert session.product.status == "administered"
        assert session.plan.consents.filter(withdrawn_at__isnull=True).exists()
    assert not CellProduct.objects.filter(status="administered", session__isnull=True).exists()
    assert ScheduledVisit.objects.filter(kind="follow_up").exists()
    call_command("load_demo", patients=40)  # idempotent
    assert (
        Patient.objects.count(),
        Appointment.objects.count(),
        Assessment.objects.count(),
    ) == counts
    # No clinician is double-booked anywhere in the demo.
    active = Appointment.objects.filter(status__in=Appointment.ACTIVE)
    for a in active:
        assert (
            not active.filter(
                clinician=a.clinician, starts_at__lt=a.ends_at, ends_at__gt=a.starts_at
            )
            .exclude(pk=a.pk)
            .exists()
        )


def login(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_login_with_email(client, physician):
    response = login(client, physician.email)
    assert response.status_code == 302
    assert client.get(reverse("intake:home")).status_code == 200


@pytest.mark.parametrize("allauth_rate_limits", [True, False], ids=["allauth+axes", "axes-alone"])
def test_failed_logins_lock_the_account(client, physician, allauth_rate_limits):
    from axes.models import AccessAttempt

    limits = {} if allauth_rate_limits else False
    with override_settings(ACCOUNT_RATE_LIMITS=limits):
        for _ in range(5):
            login(client, physician.email, "wrong-password")
        response = login(client, physician.email)  # the right password, but locked out
    assert response.status_code in (200, 429)
    assert "Too many failed" in response.content.decode() or response.status_code == 429
    assert client.get(reverse("intake:home")).status_code == 302  # not signed in
    assert AccessAttempt.objects.get(username=physician.email).failures_since_start >= 5


def test_signup_is_closed(client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "intruder@example.test",
            "password1": "Xy!9-long-pass",
            "password2": "Xy!9-long-pass",
        },
    )
    assert not User.objects.filter(email="intruder@example.test").exists()
    assert response.status_code in (200, 302, 403)


@override_settings(ANAGEN_REQUIRE_MFA=True)
@pytest.mark.parametrize(
    "role, must_enrol",
    [
        (Role.PHYSICIAN, True),
        (Role.LAB_TECHNICIAN, True),
        (Role.ADMINISTRATOR, True),
        (Role.AUDITOR, True),
        (Role.RESEARCHER, True),
        (Role.NURSE, False),
        (Role.COORDINATOR, False),
    ],
)
def test_mfa_required_for_sensitive_roles(client, staff, role, must_enrol):
    client.force_login(staff[role])
    # The researcher's home is the registry (they have no day list).
    home = "registry:home" if role == Role.RESEARCHER else "intake:home"
    response = client.get(reverse(home))
    if must_enrol:
        assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")
    else:
        assert response.status_code == 200


@override_settings(ANAGEN_REQUIRE_MFA=True)
def test_enrolled_physician_passes(client, physician):
    from allauth.mfa.models import Authenticator

    Authenticator.objects.create(user=physician, type=Authenticator.Type.TOTP, data={"secret": "x"})
    client.force_login(physician)
    assert client.get(reverse("intake:home")).status_code == 200


def test_api_docs_need_login_and_use_no_cdn(client, physician):
    assert client.get("/api/schema/").status_code in (401, 403)
    client.force_login(physician)
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/").content.decode()
    assert "cdn.jsdelivr.net" not in docs and "swagger-ui" in docs


@pytest.mark.parametrize("today", [date(2026, 12, 6), date(2026, 12, 7)])  # a Sunday, a Monday
def test_the_demo_books_a_past_visit_in_the_past_whatever_the_weekday(today, site):
    """A visit the demo records as done is never moved past the weekend into the future (the
    demo failed to load on Sundays: Saturday's visit went to Monday)."""
    from anagen.clinic.common import clock
    from anagen.clinic.demo.loader import _Calendar
    from tests.clinic.factories import PatientFactory, UserFactory

    physician = UserFactory.at(Role.PHYSICIAN, site)
    coordinator = UserFactory.at(Role.COORDINATOR, site)
    now = timezone.make_aware(datetime.combine(today, time(8, 0)))
    with clock.frozen(now):
        for back in range(1, 4):
            appointment = _Calendar(random.Random(back)).book(
                actor=coordinator,
                patient=PatientFactory(site=site),
                clinicians=[physician],
                day=today - timedelta(days=back),
            )
            assert appointment.starts_at < now
            assert appointment.starts_at.date().weekday() < 5
