from __future__ import annotations

from django import forms

from anagen.clinic.accounts.access import sites_for
from anagen.clinic.accounts.models import Site, User

from .services import KIND_LABELS, parse_mapping

MAX_TABLE_BYTES = 2 * 1024 * 1024


class TableUploadForm(forms.Form):
    kind = forms.ChoiceField(label="What the table holds", choices=list(KIND_LABELS.items()))
    site = forms.ModelChoiceField(
        queryset=Site.objects.none(), help_text="Where new patients are registered."
    )
    table = forms.FileField(
        label="Spreadsheet (.csv or .xlsx)", help_text="First row: the column names. At most 2 MB."
    )
    mapping = forms.CharField(
        label="Column names (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Only for columns with other names, one per line: Column in the file = field, "
        "e.g. Nachname = Family name.",
    )

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        sites = sites_for(user=user)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]
        if sites.count() == 1:
            self.fields["site"].initial = sites.first()

    def clean_table(self) -> tuple[str, bytes]:
        upload = self.cleaned_data["table"]
        if upload.size > MAX_TABLE_BYTES:
            raise forms.ValidationError(
                "The file is larger than 2 MB: use `manage.py import_table`."
            )
        return str(upload.name), bytes(upload.read())

    def clean_mapping(self) -> dict[str, str]:
        try:
            return parse_mapping(self.cleaned_data["mapping"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
