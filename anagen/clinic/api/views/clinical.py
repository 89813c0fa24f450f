"""Assessments, the treatment pathway, imaging and the outcome table."""

from __future__ import annotations

import hashlib

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action

from anagen.clinic.accounts.policy import Perm
from anagen.clinic.assessment import services as assessment
from anagen.clinic.assessment.models import Assessment
from anagen.clinic.imaging import services as imaging
from anagen.clinic.imaging.models import ImagingVisit, TargetSite, TrichoscopyImage
from anagen.clinic.registry import selectors as registry
from anagen.clinic.registry.models import OutcomeRecord
from anagen.clinic.treatment import services as treatment
from anagen.clinic.treatment.models import (
    AdverseEvent,
    CellProduct,
    Consent,
    ConsentText,
    CustodyEvent,
    Harvest,
    ProtocolTemplate,
    ScheduledVisit,
    TreatmentPlan,
    TreatmentSession,
)

from ..base import IDEMPOTENCY_HEADER, ReadViewSet, idempotent
from ..serializers import clinical as s


def _action(request_serializer, response_serializer, status_code=200, **extra):
    return extend_schema(
        request=request_serializer,
        responses={status_code: response_serializer},
        parameters=[IDEMPOTENCY_HEADER],
        **extra,
    )


class AssessmentViewSet(ReadViewSet):
    """Structured assessments, each with its eligibility decision."""

    queryset = Assessment.objects.select_related("decision")
    serializer_class = s.AssessmentSerializer
    perms = {
        "list": Perm.ASSESSMENT_VIEW,
        "retrieve": Perm.ASSESSMENT_VIEW,
        "create": Perm.ASSESSMENT_RECORD,
        "override": Perm.ELIGIBILITY_OVERRIDE,
    }
    filterset_fields = ["patient", "pattern"]
    ordering_fields = ["id", "assessed_at"]
    ordering = ["-assessed_at", "-id"]

    @_action(s.AssessmentInput, s.AssessmentSerializer, 201)
    @idempotent()
    def create(self, request):
        """Record an assessment; the eligibility decision is computed and stored with it."""
        record = assessment.assessment_record(
            actor=request.user, **self.validated(s.AssessmentInput, request)
        )
        return self.respond(Assessment.objects.select_related("decision").get(pk=record.pk), 201)

    @_action(s.DecisionOverrideInput, s.AssessmentSerializer)
    @action(detail=True, methods=["post"])
    @idempotent()
    def override(self, request, pk=None):
        """The physician overrides the eligibility decision, with a reason."""
        record = self.get_object()
        assessment.decision_override(
            actor=request.user,
            decision=record.decision,
            **self.validated(s.DecisionOverrideInput, request),
        )
        return self.respond(Assessment.objects.select_related("decision").get(pk=record.pk))


class ProtocolViewSet(ReadViewSet):
    """The clinic's protocol templates (network-wide)."""

    queryset = ProtocolTemplate.objects.all()
    serializer_class = s.ProtocolSerializer
    perms = {"list": Perm.PLAN_VIEW, "retrieve": Perm.PLAN_VIEW}
    filterset_fields = ["active", "method"]
    ordering_fields = ["id", "name"]
    ordering = ["id"]

    def get_queryset(self):
        return ProtocolTemplate.objects.all()


class ConsentTextViewSet(ReadViewSet):
    """The consent texts (versions) a patient may sign."""

    queryset = ConsentText.objects.all()
    serializer_class = s.ConsentTextSerializer
    perms = {"list": Perm.PLAN_VIEW, "retrieve": Perm.PLAN_VIEW}
    filterset_fields = ["active", "version"]
    ordering_fields = ["id", "created_at"]
    ordering = ["id"]

    def get_queryset(self):
        return ConsentText.objects.all()


class PlanViewSet(ReadViewSet):
    queryset = TreatmentPlan.objects.all()
    serializer_class = s.PlanSerializer
    perms = {"list": Perm.PLAN_VIEW, "retrieve": Perm.PLAN_VIEW, "create": Perm.PLAN_WRITE}
    filterset_fields = ["patient", "status", "method"]
    ordering_fields = ["id", "created_at"]
    ordering = ["-created_at", "-id"]

    @_action(s.PlanInput, s.PlanSerializer, 201)
    @idempotent()
    def create(self, request):
        """A treatment plan copied from a protocol (overrides as given)."""
        plan = treatment.plan_create(actor=request.user, **self.validated(s.PlanInput, request))
        return self.respond(plan, 201)


class ConsentViewSet(ReadViewSet):
    queryset = Consent.objects.all()
    serializer_class = s.ConsentSerializer
    site_field = "plan__patient__site"
    perms = {
        "list": Perm.PLAN_VIEW,
        "retrieve": Perm.PLAN_VIEW,
        "create": Perm.CONSENT_WITNESS,
        "withdraw": Perm.CONSENT_WITNESS,
    }
    filterset_fields = ["plan", "plan__patient"]
    ordering_fields = ["id", "signed_at"]
    ordering = ["-signed_at", "-id"]

    @_action(s.ConsentInput, s.ConsentSerializer, 201)
    @idempotent()
    def create(self, request):
        """The patient signs the consent text in force; the caller witnesses it."""
        consent = treatment.consent_sign(
            actor=request.user, **self.validated(s.ConsentInput, request)
        )
        return self.respond(consent, 201)

    @_action(s.ReasonInput, s.ConsentSerializer)
    @action(detail=True, methods=["post"])
    @idempotent()
    def withdraw(self, request, pk=None):
        consent = treatment.consent_withdraw(
            actor=request.user,
            consent=self.get_object(),
            reason=self.validated(s.ReasonInput, request)["reason"],
        )
        return self.respond(consent)


class HarvestViewSet(ReadViewSet):
    queryset = Harvest.objects.all()
    serializer_class = s.HarvestSerializer
    perms = {"list": Perm.PLAN_VIEW, "retrieve": Perm.PLAN_VIEW, "create": Perm.HARVEST_RECORD}
    filterset_fields = ["patient", "plan", "site"]
    ordering_fields = ["id", "performed_at"]
    ordering = ["-performed_at", "-id"]

    @_action(s.HarvestInput, s.HarvestSerializer, 201)
    @idempotent()
    def create(self, request):
        """Record a harvest; it creates the specimen's cell product and donation identifier."""
        harvest = treatment.harvest_record(
            actor=request.user, **self.validated(s.HarvestInput, request)
        )
        return self.respond(harvest, 201)


class CellProductViewSet(ReadViewSet):
    queryset = CellProduct.objects.all()
    serializer_class = s.CellProductSerializer
    perms = {
        "list": Perm.PRODUCT_VIEW,
        "retrieve": Perm.PRODUCT_VIEW,
        "results": Perm.PRODUCT_PROCESS,
        "release": Perm.PRODUCT_RELEASE,
        "store": Perm.PRODUCT_STORE,
        "thaw": Perm.PRODUCT_STORE,
        "discard": Perm.PRODUCT_DISCARD,
    }
    filterset_fields = ["patient", "harvest", "status", "storage", "product_code"]
    ordering_fields = ["id", "expires_at", "processing_started_at"]
    ordering = ["id"]

    @_action(s.ResultsInput, s.CellProductSerializer)
    @action(detail=True, methods=["post"])
    @idempotent()
    def results(self, request, pk=None):
        """Record laboratory results (cell counts, viability, volume, QC); fields left out keep
        their value."""
        product = treatment.product_record_results(
            actor=request.user, product=self.get_object(), **self.validated(s.ResultsInput, request)
        )
        return self.respond(product)

    @_action(s.ReleaseInput, s.CellProductSerializer)
    @action(detail=True, methods=["post"])
    @idempotent()
    def release(self, request, pk=None):
        """Release for use (four eyes: not by whoever recorded the results), e-signed."""
        product = treatment.product_release(
            actor=request.user, product=self.get_object(), **self.validated(s.ReleaseInput, request)
        )
        return self.respond(product)

    @_action(s.StoreInput, s.CellProductSerializer)
    @action(detail=True, methods=["post"])
    @idempotent()
    def store(self, request, pk=None):
        """Put a released product into cryo storage at a freezer position."""
        product = treatment.product_store(
            actor=request.user, product=self.get_object(), **self.validated(s.StoreInput, request)
        )
        return self.respond(product)

    @_action(s.ThawInput, s.CellProductSerializer)
    @action(detail=True, methods=["post"])
    @idempotent()
    def thaw(self, request, pk=None):
        product = treatment.product_thaw(
            actor=request.user, product=self.get_object(), **self.validated(s.ThawInput, request)
        )
        return self.respond(product)

    @_action(s.ReasonInput, s.CellProductSerializer)
    @action(detail=True, methods=["post"])
    @idempotent()
    def discard(self, request, pk=None):
        product = treatment.product_discard(
            actor=request.user,
            product=self.get_object(),
            reason=self.validated(s.ReasonInput, request)["reason"],
        )
        return self.respond(product)


class CustodyEventViewSet(ReadViewSet):
    """The chain of custody of every product (append-only)."""

    queryset = CustodyEvent.objects.all()
    serializer_class = s.CustodyEventSerializer
    site_field = "product__patient__site"
    perms = {"list": Perm.PRODUCT_VIEW, "retrieve": Perm.PRODUCT_VIEW}
    filterset_fields = ["product", "kind"]
    ordering_fields = ["id", "at"]
    ordering = ["at", "id"]


class SessionViewSet(ReadViewSet):
    queryset = TreatmentSession.objects.prefetch_related("zones")
    serializer_class = s.SessionSerializer
    perms = {
        "list": Perm.SESSION_VIEW,
        "retrieve": Perm.SESSION_VIEW,
        "create": Perm.SESSION_ADMINISTER,
    }
    filterset_fields = ["patient", "plan", "product"]
    ordering_fields = ["id", "started_at"]
    ordering = ["-started_at", "-id"]

    @_action(
        s.AdministerInput,
        s.SessionSerializer,
        201,
        description="Administer a product to its own patient after the two-person identity "
        "check (scanned product code and MRN, a second physician or nurse with their "
        "password). Needs an Idempotency-Key: a retry returns the first response and never "
        "administers twice.",
    )
    @idempotent(required=True)
    def create(self, request):
        data = self.validated(s.AdministerInput, request)
        data["zones"] = [dict(zone) for zone in data["zones"]]
        session = treatment.session_administer(
            actor=request.user,
            # The key (per user) is also the session's submission token: the database's unique
            # index refuses a second session for it, whatever happens to the stored response.
            submission_token="api:"
            + hashlib.sha256(f"{request.user.pk}:{request.idempotency_key}".encode()).hexdigest()[
                :60
            ],
            **data,
        )
        return self.respond(
            TreatmentSession.objects.prefetch_related("zones").get(pk=session.pk), 201
        )


class AdverseEventViewSet(ReadViewSet):
    queryset = AdverseEvent.objects.all()
    serializer_class = s.AdverseEventSerializer
    perms = {
        "list": Perm.SESSION_VIEW,
        "retrieve": Perm.SESSION_VIEW,
        "create": Perm.ADVERSE_EVENT_REPORT,
    }
    filterset_fields = ["patient", "type", "grade", "relatedness"]
    ordering_fields = ["id", "onset_on", "grade"]
    ordering = ["-onset_on", "-id"]

    @_action(s.AdverseEventInput, s.AdverseEventSerializer, 201)
    @idempotent()
    def create(self, request):
        event = treatment.adverse_event_report(
            actor=request.user, **self.validated(s.AdverseEventInput, request)
        )
        return self.respond(event, 201)


class FollowUpViewSet(ReadViewSet):
    """The follow-up schedule generated from each plan."""

    queryset = ScheduledVisit.objects.all()
    serializer_class = s.FollowUpSerializer
    perms = {
        "list": Perm.FOLLOW_UPS_VIEW,
        "retrieve": Perm.FOLLOW_UPS_VIEW,
        "book": Perm.APPOINTMENT_BOOK,
    }
    filterset_fields = {
        "patient": ["exact"],
        "plan": ["exact"],
        "kind": ["exact"],
        "completed": ["exact"],
        "due_on": ["gte", "lte"],
    }
    ordering_fields = ["id", "due_on"]
    ordering = ["due_on", "id"]

    @_action(s.FollowUpBookInput, s.FollowUpSerializer)
    @action(detail=True, methods=["post"])
    @idempotent()
    def book(self, request, pk=None):
        """Book the appointment for a scheduled follow-up visit within its window."""
        visit = self.get_object()
        treatment.scheduled_visit_book(
            actor=request.user, visit=visit, **self.validated(s.FollowUpBookInput, request)
        )
        visit.refresh_from_db()
        return self.respond(visit)


class TargetSiteViewSet(ReadViewSet):
    queryset = TargetSite.objects.all()
    serializer_class = s.TargetSiteSerializer
    perms = {"list": Perm.IMAGING_VIEW, "retrieve": Perm.IMAGING_VIEW}
    filterset_fields = ["patient", "zone"]
    ordering_fields = ["id"]
    ordering = ["id"]


class ImagingVisitViewSet(ReadViewSet):
    queryset = ImagingVisit.objects.all()
    serializer_class = s.ImagingVisitSerializer
    perms = {
        "list": Perm.IMAGING_VIEW,
        "retrieve": Perm.IMAGING_VIEW,
        "create": Perm.IMAGING_CAPTURE,
    }
    filterset_fields = ["patient", "taken_on"]
    ordering_fields = ["id", "taken_on"]
    ordering = ["-taken_on", "-id"]

    @_action(s.ImagingVisitInput, s.ImagingVisitSerializer, 201)
    @idempotent()
    def create(self, request):
        visit = imaging.imaging_visit_create(
            actor=request.user, **self.validated(s.ImagingVisitInput, request)
        )
        return self.respond(visit, 201)


class ImageViewSet(ReadViewSet):
    """Trichoscopy images with their analysis (counts, density, diameters) and corrections."""

    queryset = TrichoscopyImage.objects.all()
    serializer_class = s.ImageAnalysisSerializer
    site_field = "visit__patient__site"
    perms = {
        "list": Perm.IMAGING_VIEW,
        "retrieve": Perm.IMAGING_VIEW,
        "correct": Perm.IMAGING_CAPTURE,
    }
    filterset_fields = ["visit", "visit__patient", "target_site", "status"]
    ordering_fields = ["id", "uploaded_at"]
    ordering = ["id"]

    @_action(s.CorrectionInput, s.ImageAnalysisSerializer)
    @action(detail=True, methods=["post"])
    @idempotent()
    def correct(self, request, pk=None):
        """Correct an analysis by hand: hairs removed by id, hairs added by kind, with a note."""
        record = imaging.trichoscopy_correct(
            actor=request.user,
            record=self.get_object(),
            **self.validated(s.CorrectionInput, request),
        )
        return self.respond(record)


class OutcomeViewSet(ReadViewSet):
    """The registry's outcome table: one row per visit and target site."""

    queryset = OutcomeRecord.objects.all()
    serializer_class = s.OutcomeSerializer
    site_field = "site"
    perms = {"list": Perm.REGISTRY_VIEW, "retrieve": Perm.REGISTRY_VIEW}
    filterset_fields = ["window_day", "zone", "sex", "stage", "method", "corrected"]
    ordering_fields = ["id", "visit_day", "window_day"]
    ordering = ["id"]

    def get_queryset(self):
        return registry.outcome_records(user=self.request.user)
