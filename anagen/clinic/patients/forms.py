from __future__ import annotations

from typing import Any, cast

from django import forms

from anagen.clinic.common.forms import DateInput
from anagen.clinic.common.uploads import SafeImageField

from .models import Patient

CONFIRM_FIELD = "confirm_not_duplicate"


class DuplicateConfirmation:
    """Mixin: the "This is a different person" checkbox, shown once possible duplicates are.

    The field exists only when the page has shown matches (``ask_to_confirm``) or the posted
    form carries it back, so a first submission can never confirm blindly.
    """

    fields: dict[str, forms.Field]  # provided by the form class it is mixed into

    def _keep_confirmation(self, data: Any) -> None:
        if data is not None and CONFIRM_FIELD in data:
            self.fields[CONFIRM_FIELD] = self._confirm_field()

    @staticmethod
    def _confirm_field() -> forms.BooleanField:
        return forms.BooleanField(
            label="This is a different person",
            required=False,
            help_text="Tick only after checking the possible matches listed above.",
        )

    def ask_to_confirm(self) -> None:
        self.fields[CONFIRM_FIELD] = self._confirm_field()


class PatientForm(DuplicateConfirmation, forms.ModelForm):
    photo = SafeImageField(
        required=False, help_text="JPEG or PNG; shown in the chart header to confirm identity."
    )

    class Meta:
        model = Patient
        fields = [
            "site",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "phone",
            "email",
            "address",
            "photo",
        ]
        widgets = {"date_of_birth": DateInput(), "address": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, sites, confirmable: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if confirmable:  # registering only; an edit is never a new person
            self._keep_confirmation(self.data if self.is_bound else None)
        # a ForeignKey's form field is a ModelChoiceField
        cast("forms.ModelChoiceField[Any]", self.fields["site"]).queryset = sites
        if sites.count() == 1:
            self.fields["site"].initial = sites.first()


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label="Search patients",
        required=False,
        max_length=80,
        help_text="Name, MRN or date of birth (YYYY-MM-DD or DD/MM/YYYY)",
    )
