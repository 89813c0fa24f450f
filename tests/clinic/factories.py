"""factory_boy factories for the clinic's tests: plain rows here, clinical steps through services.

Two kinds of builder, on purpose:

* **Plain rows** (sites, staff, patients, inquiries, appointments, devices, target sites,
  imaging visits) are rows a test only needs to *exist*. Their factories write the row directly
  (``DjangoModelFactory``), so a test says only what matters to it, e.g.
  ``PatientFactory(site=site, family_name="Quill")``. They skip the services' permission and
  duplicate checks; a test *of* those checks calls the service itself.
* **Clinical steps** (an assessment and its eligibility decision, a treatment plan copied from
  the protocol, a signed consent, a harvest with its cell product, QC results, a four-eyes
  release with custody and signatures, an administered session, an analysed trichoscopy) are
  only valid as the services make them: the rules live there (append-only rows, signatures,
  custody chain, state machine). Their builders call the services: ``AssessmentFactory`` and
  ``TreatmentPlanFactory`` below route ``create`` through ``assessment_record`` and
  ``plan_create``; consent, harvest, release and session are the service calls in
  ``tests/clinic/treatment_helpers.py``; analysed images are in
  ``tests/clinic/imaging_helpers.py``. Never fake those rows with a factory: a test built on a
  product that the services could not have released proves nothing.
"""

from __future__ import annotations

from datetime import date, timedelta

import factory
from django.db import transaction
from django.utils import timezone
from factory.django import DjangoModelFactory

from anagen.clinic.accounts.models import Site, User
from anagen.clinic.accounts.roles import Role
from anagen.clinic.assessment.models import Assessment
from anagen.clinic.assessment.selectors import current_decision
from anagen.clinic.assessment.services import assessment_record
from anagen.clinic.imaging.models import Device, ImagingVisit, TargetSite
from anagen.clinic.intake.models import Appointment, Inquiry
from anagen.clinic.patients.models import Patient
from anagen.clinic.patients.services import mrn_next
from anagen.clinic.treatment import services as treatment_services
from anagen.clinic.treatment.defaults import ensure_defaults
from anagen.clinic.treatment.models import TreatmentPlan

#: Every factory-made member of staff logs in with this password.
PASSWORD = "correct-horse-battery-staple"

SITE_NAMES = {"LDN": "London", "MAN": "Manchester"}


# --- plain rows --------------------------------------------------------------------------------


class SiteFactory(DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"S{n:02d}")
    name = factory.LazyAttribute(lambda o: SITE_NAMES.get(o.code, f"Site {o.code}"))


class UserFactory(DjangoModelFactory):
    """A member of staff; ``sites`` is the list of sites they work at (default: none).

    The e-mail (also the username) is ``<role>-<site codes>@example.test`` as the older
    ``make_user`` helper made it, so tests may look staff up by address.
    """

    class Meta:
        model = User
        skip_postgeneration_save = True

    class Params:
        site_list: list[Site] = []

    role = Role.PHYSICIAN
    email = factory.LazyAttribute(
        lambda o: f"{o.role}-{'-'.join(s.code for s in o.site_list) or 'none'}@example.test".lower()
    )
    username = factory.SelfAttribute("email")
    first_name = factory.LazyAttribute(lambda o: o.role.replace("_", " ").title())
    last_name = "Tester"
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def sites(self, create, extracted, **kwargs):
        if create:
            self.sites.set(extracted or [])

    @classmethod
    def at(cls, role: str, *sites: Site, **fields) -> User:
        """``UserFactory.at(Role.NURSE, site)``: a new nurse working at ``site``."""
        return cls(role=role, site_list=list(sites), sites=list(sites), **fields)


def staff_member(role: str, *sites: Site) -> User:
    """The member of staff with ``role`` at exactly ``sites``: the existing one, else a new one.

    The default of the factories below, so that a patient's appointment, assessment and plan
    are by the same physician as the test's ``staff`` fixture.
    """
    email = UserFactory.build(role=role, site_list=list(sites)).email
    return User.objects.filter(username=email).first() or UserFactory.at(role, *sites)


def staff_at(site: Site) -> dict[str, User]:
    """One member of staff per role, all working at ``site``."""
    return {role: UserFactory.at(role, site) for role in Role.values}


def _mrn() -> str:
    with transaction.atomic():  # the sequence row is locked while the number is issued
        return mrn_next()


class PatientFactory(DjangoModelFactory):
    """A registered patient with a fresh MRN from the clinic's sequence."""

    class Meta:
        model = Patient

    site = factory.SubFactory(SiteFactory, code="LDN")
    mrn = factory.LazyFunction(_mrn)
    given_name = "Ada"
    family_name = "Quill"
    date_of_birth = date(1988, 4, 2)
    sex = "female"
    phone = "+44 20 7946 0000"
    email = factory.LazyAttribute(lambda o: f"{o.given_name}.{o.family_name}@example.test".lower())
    created_by = None


class InquiryFactory(DjangoModelFactory):
    """A request sent from the public page (status *new*, no patient yet)."""

    class Meta:
        model = Inquiry

    full_name = "Rhea Larkspur"
    phone = "+44 7700 900123"
    preferred_site = factory.SubFactory(SiteFactory, code="LDN")


def tomorrow_at(hour: int = 10):
    day = timezone.localdate() + timedelta(days=1)
    return timezone.make_aware(timezone.datetime(day.year, day.month, day.day, hour, 0))


class AppointmentFactory(DjangoModelFactory):
    """A booked consultation tomorrow at 10:00 with a physician of the patient's site.

    Written directly: no clash or opening-hours check. Tests of booking use
    ``intake.services.appointment_book``.
    """

    class Meta:
        model = Appointment

    patient = factory.SubFactory(PatientFactory)
    site = factory.SelfAttribute("patient.site")
    kind = Appointment.Kind.CONSULT
    starts_at = factory.LazyFunction(tomorrow_at)
    duration_minutes = factory.LazyAttribute(lambda o: Appointment.DEFAULT_MINUTES[o.kind])
    clinician = factory.LazyAttribute(lambda o: staff_member(Role.PHYSICIAN, o.site))
    created_by = factory.SelfAttribute("clinician")


class DeviceFactory(DjangoModelFactory):
    """A dermatoscope calibrated at 6 µm per pixel (the phantoms' scale)."""

    class Meta:
        model = Device

    name = "Dermatoscope"
    magnification = "20×"
    um_per_px = 6.0


class TargetSiteFactory(DjangoModelFactory):
    class Meta:
        model = TargetSite

    patient = factory.SubFactory(PatientFactory)
    zone = "vertex"
    description = "Vertex, 2 cm left of midline"


class ImagingVisitFactory(DjangoModelFactory):
    """An imaging visit today, without pictures (upload them through the imaging services)."""

    class Meta:
        model = ImagingVisit

    patient = factory.SubFactory(PatientFactory)
    taken_on = factory.LazyFunction(timezone.localdate)
    created_by = factory.LazyAttribute(lambda o: staff_member(Role.PHYSICIAN, o.patient.site))


# --- clinical steps: built through the services ------------------------------------------------


class AssessmentFactory(factory.Factory):
    """An assessment *and its engine decision*, recorded through ``assessment_record``.

    The default (early pattern thinning, Norwood III, 12 months) is a *candidate*.
    """

    class Meta:
        model = Assessment

    patient = factory.SubFactory(PatientFactory)
    actor = factory.LazyAttribute(lambda o: staff_member(Role.PHYSICIAN, o.patient.site))
    pattern = "thinning"
    norwood = "III"
    loss_duration_months = 12

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return assessment_record(*args, **kwargs)

    _build = _create


class TreatmentPlanFactory(factory.Factory):
    """A plan copied from the default protocol by ``plan_create``, awaiting consent.

    Records a candidate assessment first when the patient has no decision yet.
    """

    class Meta:
        model = TreatmentPlan

    patient = factory.SubFactory(PatientFactory)
    actor = factory.LazyAttribute(lambda o: staff_member(Role.PHYSICIAN, o.patient.site))

    @classmethod
    def _create(cls, model_class, *args, actor, patient, **kwargs):
        protocol, _ = ensure_defaults()
        if current_decision(patient=patient) is None:
            AssessmentFactory(actor=actor, patient=patient)
        return treatment_services.plan_create(
            actor=actor, patient=patient, protocol=protocol, **kwargs
        )

    _build = _create
