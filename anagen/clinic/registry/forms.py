"""The cohort builder: a GET form that reads as a ``selectors.Cohort``."""

from __future__ import annotations

from typing import Any

from django import forms

from anagen.clinic.accounts.access import sites_for
from anagen.clinic.accounts.models import User
from anagen.clinic.common.forms import DateInput
from anagen.clinic.common.scalp import ScalpZone
from anagen.clinic.patients.models import Sex
from anagen.clinic.treatment.models import ProtocolTemplate
from anagen.eligibility.vocab import LUDWIG, NORWOOD

from .analysis import DEFAULT_MEASURE, MEASURES
from .selectors import Cohort, may_select_by_real_dates

ANY = [("", "Any")]
#: Age bands offered (inclusive years); "" is any age.
AGE_BANDS = {
    "18-29": (18, 29),
    "30-39": (30, 39),
    "40-49": (40, 49),
    "50-59": (50, 59),
    "60-120": (60, 120),
}
#: Total cell-dose bands (cells given up to the visit, over all sessions).
CELL_BANDS = {
    "lt10m": (None, 9_999_999),
    "10-50m": (10_000_000, 50_000_000),
    "gt50m": (50_000_001, None),
}
STAGES = [(f"Norwood {v}", f"Norwood-Hamilton {v}") for v in NORWOOD] + [
    (f"Ludwig {v}", f"Ludwig {v}") for v in LUDWIG
]


class CohortForm(forms.Form):
    """Who is in the cohort. Every field is optional; an empty form is the whole registry."""

    sex = forms.ChoiceField(choices=ANY + list(Sex.choices), required=False)
    age_band = forms.ChoiceField(
        label="Age at baseline",
        choices=ANY
        + [
            (k, f"{lo}–{hi}" if hi < 120 else f"{lo} and over") for k, (lo, hi) in AGE_BANDS.items()
        ],
        required=False,
    )
    stage = forms.ChoiceField(label="Stage at baseline", choices=ANY + STAGES, required=False)
    protocol = forms.ChoiceField(choices=ANY, required=False)
    prp = forms.ChoiceField(
        label="PRP", choices=[*ANY, ("yes", "With PRP"), ("no", "Without PRP")], required=False
    )
    cell_band = forms.ChoiceField(
        label="Total cells given",
        choices=[
            *ANY,
            ("lt10m", "Under 10 million"),
            ("10-50m", "10–50 million"),
            ("gt50m", "Over 50 million"),
        ],
        required=False,
    )
    baseline_from = forms.DateField(label="Baseline from", required=False, widget=DateInput())
    baseline_to = forms.DateField(label="Baseline to", required=False, widget=DateInput())
    site = forms.ChoiceField(label="Clinic site", choices=ANY, required=False)
    zone = forms.ChoiceField(
        label="Scalp zone", choices=ANY + list(ScalpZone.choices), required=False
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not may_select_by_real_dates(user):
            # Real dates would undo the export's date shift (see the selector).
            del self.fields["baseline_from"], self.fields["baseline_to"]
        sites = sites_for(user=user).order_by("name")
        site_field = self.fields["site"]
        assert isinstance(site_field, forms.ChoiceField)
        site_field.choices = ANY + [(str(s.pk), s.name) for s in sites]
        protocols = ProtocolTemplate.objects.order_by("name").values_list("name", flat=True)
        protocol_field = self.fields["protocol"]
        assert isinstance(protocol_field, forms.ChoiceField)
        protocol_field.choices = ANY + [(p, p) for p in protocols]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("baseline_from"), data.get("baseline_to")
        if start and end and start > end:
            self.add_error("baseline_to", "The end of the baseline range is before its start.")
        return data

    def cohort(self) -> Cohort:
        """The cohort the (valid) form describes."""
        data = self.cleaned_data
        age = AGE_BANDS.get(data.get("age_band") or "", (None, None))
        cells = CELL_BANDS.get(data.get("cell_band") or "", (None, None))
        prp = {"yes": True, "no": False}.get(data.get("prp") or "")
        site = data.get("site")
        return Cohort(
            sex=data.get("sex") or None,
            age_min=age[0],
            age_max=age[1],
            stage=data.get("stage") or None,
            protocol=data.get("protocol") or None,
            prp=prp,
            cells_min=cells[0],
            cells_max=cells[1],
            baseline_from=data.get("baseline_from"),
            baseline_to=data.get("baseline_to"),
            site_id=int(site) if site else None,
            zone=data.get("zone") or None,
        )

    def description(self) -> str:
        """The cohort in words ("Male, Norwood-Hamilton III, with PRP"), or "All patients"."""
        parts = []
        for name, field in self.fields.items():
            value = self.cleaned_data.get(name)
            if not value:
                continue
            if isinstance(field, forms.ChoiceField):
                label = dict(field.choices).get(value, value)  # type: ignore[arg-type]
                parts.append(f"{field.label or name.capitalize()}: {label}")
            else:
                parts.append(f"{field.label}: {value:%d %b %Y}")
        return "; ".join(parts) or "All patients in the registry"


class MeasureForm(forms.Form):
    measure = forms.ChoiceField(
        choices=[(k, m.label) for k, m in MEASURES.items()], required=False, initial=DEFAULT_MEASURE
    )

    def measure_key(self) -> str:
        if self.is_valid() and self.cleaned_data.get("measure"):
            return str(self.cleaned_data["measure"])
        return DEFAULT_MEASURE
