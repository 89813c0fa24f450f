from __future__ import annotations

import json
from collections.abc import Sequence

from django import forms

from anagen.clinic.common.forms import DateInput
from anagen.clinic.common.scalp import ScalpZone
from anagen.clinic.common.uploads import SafeImageField
from anagen.clinic.registry.models import GlobalAssessment, Satisfaction, Shedding
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


class Day0ImageField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.visit.taken_on:%d %b %Y} · {obj.target_site.get_zone_display()}"


class TrichoscopyForm(forms.Form):
    target_site: forms.ModelChoiceField[TargetSite] = forms.ModelChoiceField(queryset=None)
    device = forms.ModelChoiceField(queryset=Device.objects.filter(active=True))
    image = SafeImageField(label="Trichoscopy image", help_text="Clipped hair, PNG/JPEG/TIFF.")
    regrowth_of = Day0ImageField(
        label="Re-image of (phototrichogram)",
        queryset=None,
        required=False,
        empty_label="No — an ordinary image",
        help_text="For the day-2 or day-3 re-image of the same clipped site: choose its day-0 "
        "image; the share of growing (anagen) hairs is then measured.",
    )

    def __init__(self, *args, sites, day0_images, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target_site"].queryset = sites
        if day0_images.exists():
            self.fields["regrowth_of"].queryset = day0_images
        else:  # no image 1–4 days before this visit: nothing to re-image
            del self.fields["regrowth_of"]


class VisitReportForm(forms.Form):
    """The follow-up report. The global assessment is shown to everyone; only a physician's
    answer is taken (the service refuses anyone else): for others the field is read-only."""

    pull_test_hairs = forms.IntegerField(
        label="Pull test (hairs out of about 60)",
        min_value=0,
        max_value=60,
        required=False,
        help_text="Leave empty if the pull test was not done.",
    )
    satisfaction = forms.TypedChoiceField(
        label="Patient's satisfaction with the result",
        choices=[("", "Not asked"), *Satisfaction.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    shedding = forms.TypedChoiceField(
        label="Shedding in the last two weeks (patient)",
        choices=[("", "Not asked"), *Shedding.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    global_assessment = forms.TypedChoiceField(
        label="Investigator's global photographic assessment (against baseline)",
        choices=[("", "Not assessed"), *GlobalAssessment.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )

    def __init__(self, *args, may_assess: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_assess:
            field = self.fields["global_assessment"]
            field.disabled = True
            field.help_text = "Recorded by a physician."


class HairIdsField(forms.Field):
    """Hair ids to remove: ticked boxes (one value each) or comma-separated ids in one value.

    Only the form of the input is checked here; which ids may be removed is the service's rule.
    """

    widget = forms.CheckboxSelectMultiple

    def prepare_value(self, value):
        """Shown back as one ticked box per id, however the ids were sent."""
        values = [value] if isinstance(value, str | int) else list(value or [])
        return [part for text in values for part in str(text).replace(" ", "").split(",") if part]

    def to_python(self, value):
        if not value:
            return []
        values = [value] if isinstance(value, str) else list(value)
        ids = []
        for text in values:
            if len(str(text)) > 20_000:
                raise forms.ValidationError("Too many hair ids.")
            for part in str(text).replace(" ", "").split(","):
                if not part:
                    continue
                if not part.isdecimal() or len(part) > 9:
                    raise forms.ValidationError("Give hair ids as whole numbers.")
                ids.append(int(part))
        return ids


class AddedHairsField(forms.CharField):
    """Missed hairs placed on the image by the viewer, as JSON; the service checks each one."""

    widget = forms.HiddenInput

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return []
        unreadable = forms.ValidationError("The hairs placed on the image could not be read.")
        if self.max_length is not None and len(text) > self.max_length:
            raise unreadable
        try:
            hairs = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested past the limit
            raise unreadable from None
        if hairs is None:
            return []
        if not isinstance(hairs, list):  # a bare number or string would reach len() and fail
            raise unreadable
        return hairs


class CorrectionForm(forms.Form):
    removed_hair_ids = HairIdsField(
        label="Not hairs (detections to remove)",
        required=False,
        help_text="Tick each detection that is not a hair (numbered as on the overlay).",
    )
    added_hairs = AddedHairsField(required=False, max_length=200_000)
    added_terminal = forms.IntegerField(
        label="Missed terminal hairs (not placed on the image)",
        min_value=0,
        max_value=2000,
        initial=0,
    )
    added_vellus = forms.IntegerField(
        label="Missed vellus hairs (not placed on the image)",
        min_value=0,
        max_value=2000,
        initial=0,
    )
    note = forms.CharField(label="What was corrected", max_length=500)

    def __init__(self, *args, hairs: Sequence[dict] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["removed_hair_ids"].widget.choices = [
            (
                hair["id"],
                f"#{hair['id']} · {hair['kind']} · {hair['diameter_um']:.0f} µm · "
                f"at ({hair['x']:.0f}, {hair['y']:.0f}) px",
            )
            for hair in hairs
        ]

    @staticmethod
    def initial_for(record) -> dict:
        """The form's starting values from a record's saved correction."""
        unplaced = record.unplaced_added()
        return {
            "removed_hair_ids": [str(i) for i in record.removed_hair_ids],
            "added_hairs": json.dumps(record.added_hairs),
            "added_terminal": unplaced["terminal"],
            "added_vellus": unplaced["vellus"],
        }
