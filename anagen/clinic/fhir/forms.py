from __future__ import annotations

from django import forms

from anagen.clinic.accounts.access import sites_for
from anagen.clinic.accounts.models import Site, User

#: The largest Bundle file the page accepts (the command line takes any size up to MAX_ENTRIES).
MAX_BUNDLE_BYTES = 2 * 1024 * 1024


class BundleUploadForm(forms.Form):
    site = forms.ModelChoiceField(
        queryset=Site.objects.none(), help_text="The clinic the patients are registered at."
    )
    bundle = forms.FileField(
        label="FHIR Bundle (JSON)",
        help_text="A Bundle of Patient, Condition and Observation resources, at most 2 MB.",
    )

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        sites = sites_for(user=user)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]
        if sites.count() == 1:
            self.fields["site"].initial = sites.first()

    def clean_bundle(self) -> str:
        upload = self.cleaned_data["bundle"]
        if upload.size > MAX_BUNDLE_BYTES:
            raise forms.ValidationError(
                "The file is larger than 2 MB: use `manage.py import_fhir`."
            )
        data = upload.read()
        try:
            return str(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise forms.ValidationError(
                "The file is not UTF-8 text (a FHIR JSON Bundle is)."
            ) from None


class BundleApplyForm(forms.Form):
    """The checked Bundle, sent back with the dry-run report to be imported."""

    site = forms.ModelChoiceField(queryset=Site.objects.none(), widget=forms.HiddenInput)
    raw = forms.CharField(widget=forms.HiddenInput, max_length=MAX_BUNDLE_BYTES)

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["site"].queryset = sites_for(user=user)  # type: ignore[attr-defined]
