from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from anagen.clinic.accounts.models import Site, User
from anagen.clinic.common.forms import DateInput, DateTimeInput, choose
from anagen.clinic.patients.forms import DuplicateConfirmation
from anagen.clinic.patients.models import Sex

from .models import Appointment, Inquiry
from .selectors import day_in_range

phone_validator = RegexValidator(
    r"^\+?[0-9 ()\-]{6,24}$", "Enter a phone number of digits, spaces and an optional +."
)


class PublicInquiryForm(forms.Form):
    full_name = forms.CharField(label="Your name", max_length=160)
    phone = forms.CharField(label="Phone", max_length=32, validators=[phone_validator])
    email = forms.EmailField(label="E-mail (optional)", required=False)
    preferred_site = forms.ModelChoiceField(label="Clinic", queryset=Site.objects.all())
    preferred_time = forms.CharField(label="Best time to call", max_length=80, required=False)
    message = forms.CharField(
        label="What would you like to ask? (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    consent_to_contact = forms.BooleanField(
        label="I agree to be contacted by the clinic about my request."
    )
    # Honeypot: hidden from people by CSS and aria-hidden; bots fill it in.
    website = forms.CharField(required=False, label="Leave this empty")

    def is_spam(self) -> bool:
        return bool(self.cleaned_data.get("website"))


class InquiryNoteForm(forms.Form):
    text = forms.CharField(
        label="Call-back note", max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    status = forms.ChoiceField(
        label="Set status",
        required=False,
        choices=[
            ("", "— keep —"),
            *[(v, label) for v, label in Inquiry.Status.choices if v != "booked"],
        ],
    )


class ConvertInquiryForm(DuplicateConfirmation, forms.Form):
    given_name = forms.CharField(max_length=80)
    family_name = forms.CharField(max_length=80)
    date_of_birth = forms.DateField(widget=DateInput())
    sex = forms.ChoiceField(choices=choose(Sex.choices))
    phone = forms.CharField(max_length=32, validators=[phone_validator])
    email = forms.EmailField(required=False)
    site = forms.ModelChoiceField(queryset=Site.objects.none())
    consult_starts_at = forms.DateTimeField(label="Consultation starts", widget=DateTimeInput())
    clinician: forms.ModelChoiceField[User] = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args, sites, clinicians, **kwargs):
        super().__init__(*args, **kwargs)
        self._keep_confirmation(self.data if self.is_bound else None)
        self.fields["site"].queryset = sites
        self.fields["clinician"].queryset = clinicians


class AppointmentForm(forms.Form):
    kind = forms.ChoiceField(choices=Appointment.Kind.choices)
    starts_at = forms.DateTimeField(label="Starts", widget=DateTimeInput())
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)",
        required=False,
        min_value=5,
        max_value=480,
        help_text="Leave empty for the usual length of this kind of visit.",
    )
    clinician: forms.ModelChoiceField[User] = forms.ModelChoiceField(queryset=None)
    notes = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    back_entry_reason = forms.CharField(
        label="Reason for entering a past appointment",
        required=False,
        max_length=300,
        help_text="Only when recording a visit that already took place.",
    )

    def __init__(self, *args, clinicians, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinician"].queryset = clinicians


class DayForm(forms.Form):
    day = forms.DateField(label="Day", required=False, widget=DateInput())
    site = forms.ModelChoiceField(label="Site", queryset=Site.objects.none(), required=False)

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites

    def clean_day(self):
        day = self.cleaned_data["day"]
        if day is not None and not day_in_range(day):
            raise forms.ValidationError("Pick a day between 1900 and 9998.")
        return day


def slot_initial(params, clinicians) -> dict:
    """A booking form's starting values from the free slot picked (``slot``, ``clinician`` in
    the query string); anything unparsable or not one of ``clinicians`` is ignored."""
    initial: dict = {}
    try:
        slot = parse_datetime(params.get("slot", "") or "")
    except ValueError:  # well-formed but impossible
        slot = None
    if slot is not None:
        initial["starts_at"] = slot if timezone.is_aware(slot) else timezone.make_aware(slot)
    clinician = params.get("clinician", "")
    if (
        clinician.isdecimal()
        and len(clinician) <= 18
        and clinicians.filter(pk=int(clinician)).exists()
    ):
        initial["clinician"] = int(clinician)
    return initial


def slot_day_asked(params, default: date | None = None) -> date:
    """The day whose free slots the booking page shows: ``day`` in the query, else
    ``default``, else tomorrow."""
    try:
        asked = parse_date(params.get("day", "") or "")
    except ValueError:  # a well-formed but impossible date, e.g. 2026-02-31
        asked = None
    if asked is not None and not day_in_range(asked):
        asked = None
    return asked or default or timezone.localdate() + timedelta(days=1)
