from __future__ import annotations

from datetime import date, datetime

from django import forms
from django.utils import timezone
from django.utils.formats import date_format

from anagen.clinic.common.forms import DateInput, DateTimeInput
from anagen.eligibility import vocab
from anagen.eligibility.labs import LabTest, lab_test

from .models import Assessment, EligibilityDecision

LAB_CODES = ("ferritin", "tsh", "vitamin_d", "haemoglobin")
#: The unit each laboratory field is entered in (from the eligibility library's tests).
UNITS = {code: lab_test(code).unit for code in LAB_CODES}


def reference_text(test: LabTest, sex: str | None = None) -> str:
    """'30–200 µg/L', '≥ 50 nmol/L': the reference interval as staff read it."""
    ref = test.range_for(sex)
    if ref.low is not None and ref.high is not None:
        return f"{ref.low:g}–{ref.high:g} {test.unit}"
    if ref.low is not None:
        return f"≥ {ref.low:g} {test.unit}"
    return f"≤ {ref.high:g} {test.unit}"


def _multi(label: str, codes) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        required=False,
        choices=[(c, vocab.LABELS.get(c, c)) for c in codes],
        widget=forms.CheckboxSelectMultiple,
    )


class AssessmentForm(forms.ModelForm):
    """The assessment as the physician fills it in; prior treatments get a date pair each."""

    triggers = _multi("Triggers in the last 6 months", vocab.TRIGGERS)
    drugs = _multi("Drugs (current or in the last 6 months)", vocab.DRUGS)
    trichoscopy_findings = _multi("Trichoscopy findings", vocab.TRICHOSCOPY_FINDINGS)
    contraindications = _multi("Contraindications", vocab.CONTRAINDICATIONS)

    class Meta:
        model = Assessment
        fields = [
            "assessed_at",
            "onset_age_years",
            "loss_duration_months",
            "pattern",
            "family_history",
            "triggers",
            "drugs",
            "ferritin",
            "tsh",
            "vitamin_d",
            "haemoglobin",
            "norwood",
            "ludwig",
            "sinclair",
            "savin",
            "basp",
            "pull_test",
            "trichoscopy_findings",
            "trichoscopy_notes",
            "contraindications",
            "notes",
        ]
        widgets = {
            "assessed_at": DateTimeInput(),
            "trichoscopy_notes": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, sex: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assessed_at"].required = False
        self.fields["assessed_at"].help_text = "Leave empty for now."
        for code in LAB_CODES:
            test = lab_test(code)
            self.fields[code].help_text = f"Reference {reference_text(test, sex)}"
        for code in vocab.PRIOR_TREATMENTS:
            label = vocab.LABELS.get(code, code)
            self.fields[f"{code}_started"] = forms.DateField(
                label=f"{label}: started", required=False, widget=DateInput()
            )
            self.fields[f"{code}_stopped"] = forms.DateField(
                label=f"{label}: stopped",
                required=False,
                widget=DateInput(),
                help_text="Empty if still in use.",
            )

    #: The form's sections, in the order a consultation goes (the page and its summary).
    SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
        (
            "history",
            "History of the loss",
            ("assessed_at", "onset_age_years", "loss_duration_months", "pattern", "family_history"),
        ),
        ("triggers", "Triggers and medicines", ("triggers", "drugs")),
        (
            "treatments",
            "Prior treatments",
            (
                "minoxidil_started",
                "minoxidil_stopped",
                "finasteride_dutasteride_started",
                "finasteride_dutasteride_stopped",
                "prp_started",
                "prp_stopped",
                "transplant_started",
                "transplant_stopped",
            ),
        ),
        ("labs", "Laboratory results", ("ferritin", "tsh", "vitamin_d", "haemoglobin")),
        ("scales", "Scales", ("norwood", "ludwig", "sinclair", "savin", "basp")),
        ("examination", "Examination", ("pull_test", "trichoscopy_findings", "trichoscopy_notes")),
        ("contraindications", "Contraindications and notes", ("contraindications", "notes")),
    )

    def sections(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        return [
            (key, title, [self[name] for name in names if name in self.fields])
            for key, title, names in self.SECTIONS
        ]

    def summary(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """What was entered, section by section, in words (for the review before saving);
        empty fields are left out."""
        rows = []
        for _key, title, names in self.SECTIONS:
            entered = []
            for name in names:
                value = self.cleaned_data.get(name)
                if value in (None, "", [], ()):
                    continue
                field = self.fields[name]
                labels = dict(getattr(field, "choices", ()) or ())
                if isinstance(value, list | tuple):
                    text = ", ".join(str(labels.get(v, v)) for v in value)
                elif isinstance(value, datetime):
                    text = date_format(timezone.localtime(value), "DATETIME_FORMAT")
                elif isinstance(value, date):
                    text = date_format(value, "DATE_FORMAT")
                else:
                    text = str(labels.get(value, value))
                unit = UNITS.get(name, "")
                entered.append((str(field.label), f"{text} {unit}".strip()))
            if entered:
                rows.append((title, entered))
        return rows

    def service_fields(self) -> dict:
        """The cleaned data in the shape ``services.assessment_record`` takes."""
        data = {k: v for k, v in self.cleaned_data.items() if k in self.Meta.fields}
        if not data.get("assessed_at"):
            data.pop("assessed_at", None)
        # Every pair with a date goes to the service, which judges it (a stop needs a start).
        data["prior_treatments"] = {
            code: {
                name: day.isoformat() if day else None
                for name, day in (
                    ("started", self.cleaned_data.get(f"{code}_started")),
                    ("stopped", self.cleaned_data.get(f"{code}_stopped")),
                )
            }
            for code in vocab.PRIOR_TREATMENTS
            if self.cleaned_data.get(f"{code}_started") or self.cleaned_data.get(f"{code}_stopped")
        }
        return data


class OverrideForm(forms.Form):
    outcome = forms.ChoiceField(label="Overriding outcome", choices=EligibilityDecision.OUTCOMES)
    reason = forms.CharField(
        label="Clinical reason", max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
