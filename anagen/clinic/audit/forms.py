"""The audit trail's filters: who, what kind of record, when, and (network log) which patient."""

from __future__ import annotations

from typing import Any

from django import forms

from anagen.clinic.accounts.models import User

from .selectors import AuditFilter, audit_staff, record_kinds


def _display_name(user: User) -> str:
    return user.display_name


class AuditFilterForm(forms.Form):
    who = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label="Staff member", empty_label="Anyone"
    )
    kind = forms.ChoiceField(required=False, label="Record")
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    mrn = forms.CharField(required=False, max_length=32, label="Patient (MRN)")

    def __init__(self, *args: Any, reader: User, network: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        who = self.fields["who"]
        assert isinstance(who, forms.ModelChoiceField)
        who.queryset = audit_staff(user=reader)
        who.label_from_instance = _display_name  # type: ignore[method-assign,assignment]
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [("", "Every record"), *record_kinds(patient_only=not network)]
        if not network:
            del self.fields["mrn"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return data

    def wanted(self) -> AuditFilter:
        """The filter asked for (call after ``is_valid``); an invalid form filters nothing."""
        data = self.cleaned_data if self.is_valid() else {}
        who = data.get("who")
        return AuditFilter(
            who=who.pk if who else None,
            kind=data.get("kind") or "",
            since=data.get("since"),
            until=data.get("until"),
            mrn=data.get("mrn") or "",
        )
