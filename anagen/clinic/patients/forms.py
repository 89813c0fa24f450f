from django import forms

from anagen.clinic.core.forms import DateInput
from anagen.clinic.core.uploads import SafeImageField

from .models import Patient


class PatientForm(forms.ModelForm):
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

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        if sites.count() == 1:
            self.fields["site"].initial = sites.first()


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label="Search patients",
        required=False,
        max_length=80,
        help_text="Name, MRN or date of birth (YYYY-MM-DD or DD/MM/YYYY)",
    )
