from django import forms

REASON_HELP = "The patient's request: how it came and its date (kept in the privacy log)."


class ExportForm(forms.Form):
    reason = forms.CharField(
        label="Why is this export made?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=REASON_HELP,
    )


class EraseRequestForm(forms.Form):
    """Step 1: the request and its reason."""

    reason = forms.CharField(
        label="Why is this patient's identity erased?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=REASON_HELP,
    )
    understood = forms.BooleanField(
        label="I have checked the request and understand that the erasure cannot be undone."
    )


class EraseConfirmForm(forms.Form):
    """Step 2: the reason carried over, and the patient's MRN typed again."""

    reason = forms.CharField(widget=forms.HiddenInput, max_length=2000)
    confirm_mrn = forms.CharField(
        label="Type the patient's MRN to confirm",
        max_length=16,
        help_text="Exactly as shown at the top of this page.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
