"""Patients, inquiries and appointments."""

from __future__ import annotations

from rest_framework import serializers

from anagen.clinic.accounts.models import User
from anagen.clinic.intake.models import Appointment, Inquiry
from anagen.clinic.patients.models import Patient

from .common import Input, ReadOnlyModelSerializer, ScopedPrimaryKey, site_field, staff_field

SEX = Patient._meta.get_field("sex").choices


class PatientSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = Patient
        fields = [
            "id",
            "mrn",
            "site",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "phone",
            "email",
            "address",
            "created_at",
        ]


class PatientInput(Input):
    site = site_field()
    given_name = serializers.CharField(max_length=80)
    family_name = serializers.CharField(max_length=80)
    date_of_birth = serializers.DateField()
    sex = serializers.ChoiceField(choices=SEX)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    address = serializers.CharField(required=False, allow_blank=True)
    confirm_not_duplicate = serializers.BooleanField(
        required=False, help_text="Register even though a similar patient exists."
    )


class PatientSearchInput(Input):
    query = serializers.CharField(
        max_length=120,
        help_text="Name words, an MRN or part of one, or a date of birth (YYYY-MM-DD or DD/MM/YYYY),"
        " as in the clinic's patient search.",
    )


class PatientUpdateInput(Input):
    site = site_field(required=False)
    given_name = serializers.CharField(max_length=80, required=False)
    family_name = serializers.CharField(max_length=80, required=False)
    date_of_birth = serializers.DateField(required=False)
    sex = serializers.ChoiceField(choices=SEX, required=False)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    address = serializers.CharField(required=False, allow_blank=True)


class InquirySerializer(ReadOnlyModelSerializer):
    class Meta:
        model = Inquiry
        fields = "__all__"


class InquiryStatusInput(Input):
    status = serializers.ChoiceField(choices=Inquiry.Status.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class InquiryConvertInput(Input):
    given_name = serializers.CharField(max_length=80)
    family_name = serializers.CharField(max_length=80)
    date_of_birth = serializers.DateField()
    sex = serializers.ChoiceField(choices=SEX)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    consult_starts_at = serializers.DateTimeField()
    clinician = staff_field()
    site = site_field()
    confirm_not_duplicate = serializers.BooleanField(required=False, default=False)


class AppointmentSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = Appointment
        fields = "__all__"


class AppointmentInput(Input):
    patient = ScopedPrimaryKey(queryset=Patient.objects.all(), site_field="site")
    kind = serializers.ChoiceField(choices=Appointment.Kind.choices)
    starts_at = serializers.DateTimeField()
    clinician = staff_field()
    duration_minutes = serializers.IntegerField(required=False, min_value=1, max_value=600)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    back_entry_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200
    )


class AppointmentStatusInput(Input):
    status = serializers.ChoiceField(choices=Appointment.Status.choices)


class InquiryConvertResult(serializers.Serializer):
    patient = PatientSerializer()
    appointment = AppointmentSerializer()


class ClinicianSerializer(ReadOnlyModelSerializer):
    """A member of staff who can be booked for appointments (no contact details)."""

    name = serializers.CharField(source="display_name")

    class Meta:
        model = User
        fields = ["id", "name", "role"]
