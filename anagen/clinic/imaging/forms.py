from __future__ import annotations

from django import forms

from anagen.clinic.common.forms import DateInput
from anagen.clinic.common.scalp import ScalpZone
from anagen.clinic.common.uploads import SafeImageField
from anagen.clinic.treatment.models import ScheduledVisit

from .models import Device, GlobalPhoto, TargetSite


class ImagingVisitForm(forms.Form):
    taken_on = forms.DateField(label="Date", widget=DateInput())
    # querysets are set per patient in __init__
    scheduled_visit: forms.ModelChoiceField[ScheduledVisit] = forms.ModelChoiceField(
        label="Scheduled visit",
        queryset=None,
        required=False,
        help_text="The follow-up this imaging belongs to (marks it attended).",
    )
    notes = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, scheduled, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scheduled_visit"].queryset = scheduled


class TargetSiteForm(forms.Form):
    zone = forms.ChoiceField(choices=ScalpZone.choices)
    description = forms.CharField(
        max_length=200, help_text="Where the 1 cm² site is, e.g. 10 cm behind the glabella"
    )
    landmark_note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class PhotoForm(forms.Form):
    view = forms.ChoiceField(choices=GlobalPhoto.View.choices)
    image = SafeImageField(label="Photo")


class TrichoscopyForm(forms.Form):
    target_site: forms.ModelChoiceField[TargetSite] = forms.ModelChoiceField(queryset=None)
    device = forms.ModelChoiceField(queryset=Device.objects.filter(active=True))
    image = SafeImageField(label="Trichoscopy image", help_text="Clipped hair, PNG/JPEG/TIFF.")

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target_site"].queryset = sites


class CorrectionForm(forms.Form):
    removed_hair_ids = forms.CharField(
        label="Remove detections (hair ids)",
        required=False,
        max_length=2000,
        help_text="Comma-separated ids from the overlay of things that are not hairs.",
    )
    added_terminal = forms.IntegerField(
        label="Missed terminal hairs", min_value=0, max_value=2000, initial=0
    )
    added_vellus = forms.IntegerField(
        label="Missed vellus hairs", min_value=0, max_value=2000, initial=0
    )
    note = forms.CharField(label="What was corrected", max_length=500)

    def clean_removed_hair_ids(self):
        text = self.cleaned_data["removed_hair_ids"].replace(" ", "")
        if not text:
            return []
        try:
            return [int(part) for part in text.split(",") if part]
        except ValueError:
            raise forms.ValidationError("Give hair ids as numbers separated by commas.") from None
