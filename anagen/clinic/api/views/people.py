"""Patients, inquiries and appointments."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action

from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import Perm
from anagen.clinic.intake import selectors as intake_selectors
from anagen.clinic.intake import services as intake
from anagen.clinic.intake.models import Appointment, Inquiry
from anagen.clinic.patients import services as patients
from anagen.clinic.patients.models import Patient
from anagen.clinic.patients.selectors import patient_search

from ..base import IDEMPOTENCY_HEADER, IF_MATCH_HEADER, ReadViewSet, idempotent
from ..error_codes import ApiErrorCode
from ..serializers import people as s

#: The only query parameters the patient list reads. Any other (``?mrn=``, ``?name=``…) is
#: refused, not ignored, so that a client filtering by MRN never takes the first patient of an
#: unfiltered list, and no identifier is invited into a URL.
PATIENT_LIST_PARAMS = frozenset({"site", "sex", "ordering", "limit", "offset", "format"})


class PatientViewSet(ReadViewSet):
    """Patients of the caller's sites."""

    queryset = Patient.objects.all()
    serializer_class = s.PatientSerializer
    site_field = "site"
    perms = {
        "list": Perm.PATIENT_VIEW,
        "retrieve": Perm.PATIENT_VIEW,
        "create": Perm.PATIENT_REGISTER,
        "partial_update": Perm.PATIENT_EDIT,
        "search": Perm.PATIENT_VIEW,
    }
    # No name, MRN or date-of-birth filters here: those terms go in the body of ``search``, never
    # in a URL (URLs reach access logs, proxies and histories).
    filterset_fields = ["site", "sex"]
    ordering_fields = ["id", "mrn", "family_name", "date_of_birth", "created_at"]
    ordering = ["id"]

    @extend_schema(
        request=s.PatientInput,
        responses={201: s.PatientSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    @idempotent()
    def create(self, request):
        patient = patients.patient_create(
            actor=request.user, **self.validated(s.PatientInput, request)
        )
        return self.respond(patient, 201)

    def list(self, request, *args, **kwargs):
        unknown = sorted(set(request.query_params) - PATIENT_LIST_PARAMS)
        if unknown:
            raise serializers.ValidationError(
                {
                    unknown[0]: [
                        serializers.ErrorDetail(
                            "The patient list filters by site and sex only; patient identifiers "
                            "do not go in URLs: POST them to /api/v1/patients/search/.",
                            code=ApiErrorCode.INVALID,
                        )
                    ]
                }
            )
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=s.PatientSearchInput,
        responses={200: s.PatientSerializer(many=True)},
        parameters=[
            OpenApiParameter("limit", int, description="At most this many (default 50, ≤ 500)."),
            OpenApiParameter("offset", int, description="Skip this many."),
        ],
    )
    @action(detail=False, methods=["post"], filter_backends=[])
    def search(self, request):
        """Find patients as the clinic's patient search does: by name, MRN or date of birth.

        The terms travel in the body, so no identifier reaches a URL.
        """
        query = self.validated(s.PatientSearchInput, request)["query"]
        found = patient_search(user=request.user, query=query).filter(
            pk__in=self.get_queryset().values("pk")
        )
        page = self.paginate_queryset(found.order_by("family_name", "given_name", "id"))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=s.PatientUpdateInput,
        responses={200: s.PatientSerializer},
        parameters=[IF_MATCH_HEADER],
    )
    def partial_update(self, request, pk=None):
        data = self.validated(s.PatientUpdateInput, request)
        with transaction.atomic():
            patient = self.get_queryset().select_for_update().get(pk=self.get_object().pk)
            self.require_fresh(request, patient)
            patient = patients.patient_update(actor=request.user, patient=patient, **data)
        return self.respond(patient)


class InquiryViewSet(ReadViewSet):
    """Requests for a call back, from the public form."""

    queryset = Inquiry.objects.all()
    serializer_class = s.InquirySerializer
    site_field = "preferred_site"
    perms = {
        "list": Perm.INQUIRY_VIEW,
        "retrieve": Perm.INQUIRY_VIEW,
        "status": Perm.INQUIRY_WORK,
        "convert": Perm.INQUIRY_WORK,
    }
    filterset_fields = ["status", "preferred_site"]
    ordering_fields = ["id", "received_at", "status"]
    ordering = ["-received_at", "-id"]

    @extend_schema(
        request=s.InquiryStatusInput,
        responses={200: s.InquirySerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    @action(detail=True, methods=["post"])
    @idempotent()
    def status(self, request, pk=None):
        """Record a call (an optional note) and set the inquiry's status."""
        inquiry = self.get_object()
        data = self.validated(s.InquiryStatusInput, request)
        with transaction.atomic():
            if data["note"].strip():
                intake.inquiry_add_note(
                    actor=request.user, inquiry=inquiry, text=data["note"], status=data["status"]
                )
            else:
                intake.inquiry_set_status(
                    actor=request.user, inquiry=inquiry, status=data["status"]
                )
        inquiry.refresh_from_db()
        return self.respond(inquiry)

    @extend_schema(
        request=s.InquiryConvertInput,
        responses={201: s.InquiryConvertResult},
        parameters=[IDEMPOTENCY_HEADER],
    )
    @action(detail=True, methods=["post"])
    @idempotent()
    def convert(self, request, pk=None):
        """Register the inquirer as a patient and book their consultation, all or nothing."""
        inquiry = self.get_object()
        data = self.validated(s.InquiryConvertInput, request)
        fields = ("given_name", "family_name", "date_of_birth", "sex", "phone", "email")
        patient, appointment = intake.inquiry_convert(
            actor=request.user,
            inquiry=inquiry,
            patient_fields={k: data[k] for k in fields if k in data},
            consult_starts_at=data["consult_starts_at"],
            clinician=data["clinician"],
            site=data["site"],
            confirm_not_duplicate=data["confirm_not_duplicate"],
        )
        return self.respond(
            {"patient": patient, "appointment": appointment}, 201, s.InquiryConvertResult
        )


class AppointmentViewSet(ReadViewSet):
    """Consultations, sessions and follow-up visits."""

    queryset = Appointment.objects.all()
    serializer_class = s.AppointmentSerializer
    site_field = "site"
    perms = {
        "list": Perm.DAY_VIEW,
        "retrieve": Perm.DAY_VIEW,
        "create": Perm.APPOINTMENT_BOOK,
        "status": Perm.APPOINTMENT_BOOK,
    }
    filterset_fields = {
        "patient": ["exact"],
        "site": ["exact"],
        "clinician": ["exact"],
        "kind": ["exact"],
        "status": ["exact"],
        "starts_at": ["gte", "lt"],
    }
    ordering_fields = ["id", "starts_at"]
    ordering = ["starts_at", "id"]

    @extend_schema(
        request=s.AppointmentInput,
        responses={201: s.AppointmentSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    @idempotent()
    def create(self, request):
        """Book an appointment (the clinician must be free and work at the patient's site)."""
        appointment = intake.appointment_book(
            actor=request.user, **self.validated(s.AppointmentInput, request)
        )
        return self.respond(appointment, 201)

    @extend_schema(
        request=s.AppointmentStatusInput,
        responses={200: s.AppointmentSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    @action(detail=True, methods=["post"])
    @idempotent()
    def status(self, request, pk=None):
        """Mark the appointment arrived, completed, cancelled or no-show."""
        appointment = intake.appointment_set_status(
            actor=request.user,
            appointment=self.get_object(),
            status=self.validated(s.AppointmentStatusInput, request)["status"],
        )
        return self.respond(appointment)


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("site", int, OpenApiParameter.QUERY, description="Site id")]
    )
)
class ClinicianViewSet(ReadViewSet):
    """Physicians and nurses who can be booked, at the caller's sites (``?site=`` narrows)."""

    queryset = User.objects.none()
    serializer_class = s.ClinicianSerializer
    perms = {"list": Perm.DAY_VIEW, "retrieve": Perm.DAY_VIEW}
    filter_backends: list[type] = []

    def get_queryset(self):
        site = self.request.query_params.get("site", "")
        return intake_selectors.clinicians_for(
            user=self.request.user, site_id=int(site) if site.isdigit() and len(site) < 10 else None
        )
