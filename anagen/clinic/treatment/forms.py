"""Forms of the treatment pages. They parse input; every rule lives in ``services``."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.utils import timezone

from anagen.clinic.accounts.models import Site, User
from anagen.clinic.common.forms import DateInput, DateTimeInput, choose
from anagen.clinic.common.scalp import ScalpZone

from .models import (
    CTCAE_GRADES,
    Adjunct,
    AdverseEvent,
    CellProduct,
    Harvest,
    Method,
    ProtocolTemplate,
    TreatmentSession,
)
from .selectors import FollowUpFilter, cells_per_point_warning
from .services import MAX_THAW_WINDOW_HOURS
from .services.lifecycle import RESULT_FIELDS

TYPICAL_HARVEST_ML = (Decimal("10"), Decimal("30"))


def _now_minute():
    return timezone.localtime().replace(second=0, microsecond=0)


class PlanForm(forms.Form):
    protocol = forms.ModelChoiceField(
        queryset=ProtocolTemplate.objects.filter(active=True).order_by("name"),
        widget=forms.HiddenInput,
    )
    method = forms.ChoiceField(choices=Method.choices)
    target_zones = forms.MultipleChoiceField(
        label="Scalp zones to treat",
        choices=ScalpZone.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    adjuncts = forms.MultipleChoiceField(
        choices=Adjunct.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    planned_sessions = forms.IntegerField(label="Planned sessions", min_value=1, max_value=20)
    interval_weeks = forms.IntegerField(
        label="Weeks between sessions",
        min_value=1,
        max_value=52,
        help_text="Repeat sessions are usually about every 8 weeks.",
    )
    planned_dose_cells = forms.IntegerField(
        label="Viable cells per session",
        min_value=1,
        help_text="The release gate checks each product holds at least this dose.",
    )
    price_min = forms.DecimalField(label="Quote from", min_value=0, decimal_places=2)
    price_max = forms.DecimalField(label="Quote up to", min_value=0, decimal_places=2)

    @staticmethod
    def initial_from(protocol: ProtocolTemplate | None, currency: str) -> dict:
        """The protocol's values; its prices only when they are in the site's ``currency``."""
        if protocol is None:
            return {}
        same_currency = protocol.currency == currency
        return {
            "protocol": protocol.pk,
            "method": protocol.method,
            "target_zones": list(protocol.target_zones),
            "adjuncts": list(protocol.adjuncts),
            "planned_sessions": protocol.planned_sessions,
            "interval_weeks": protocol.interval_weeks,
            "planned_dose_cells": protocol.planned_dose_cells,
            "price_min": protocol.price_min if same_currency else None,
            "price_max": protocol.price_max if same_currency else None,
        }

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("protocol")
        return data


class ConsentSignForm(forms.Form):
    consent_text = forms.IntegerField(widget=forms.HiddenInput)
    signer_name = forms.CharField(
        label="Patient's full name",
        max_length=200,
        help_text="The patient types their full name exactly as registered. This is their signature.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    agrees = forms.BooleanField(
        label=(
            "I have read this consent, I understand that the therapy is investigational and "
            "that results are not guaranteed, and I agree to the treatment plan above."
        ),
        required=False,
    )


class ConsentWithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Reason for withdrawal",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="In the patient's words where possible.",
    )


class HarvestForm(forms.Form):
    performed_at = forms.DateTimeField(label="Harvest time", widget=DateTimeInput())
    site = forms.ChoiceField(label="Harvest site", choices=Harvest.Site.choices)
    anaesthesia = forms.CharField(max_length=120, initial="Local, tumescent lidocaine")
    cannula_or_punch_mm = forms.DecimalField(
        label="Cannula or punch size (mm)",
        min_value=Decimal("0.5"),
        max_value=Decimal("6"),
        decimal_places=1,
        help_text="Mini-liposuction cannula, or 2–3 mm for scalp punches.",
    )
    volume_ml = forms.DecimalField(
        label="Volume (mL)",
        min_value=Decimal("0.1"),
        max_value=Decimal("100"),
        decimal_places=1,
        help_text="Typical mini-liposuction: 10–30 mL.",
        widget=forms.NumberInput(attrs={"step": "0.1", "data-typical": "10-30"}),
    )
    sterile_checklist = forms.MultipleChoiceField(
        label="Confirmed before the first incision",
        choices=Harvest.STERILE_CHECKLIST,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Every item must be confirmed before the harvest can be recorded.",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data["sterile_checklist"] = dict.fromkeys(data["sterile_checklist"], True)
        return data


def volume_hint(volume) -> str | None:
    low, high = TYPICAL_HARVEST_ML
    if volume is None or low <= volume <= high:
        return None
    return f"{volume} mL is outside the typical {low}–{high} mL: check the value."


QC_CHOICES = CellProduct.QC.choices


class ResultsForm(forms.Form):
    """One input per laboratory result (``lifecycle.RESULT_FIELDS``), viability in percent.

    The inputs declared here word and bound the common results; a result added to
    ``RESULT_FIELDS`` without one gets its model field's own form field (``__init__``).
    """

    #: The input of a result where it is not the model field itself.
    INPUTS = {"viable_fraction": "viability_percent"}

    processing_ended_at = forms.DateTimeField(
        label="Processing ended", required=False, widget=DateTimeInput()
    )
    total_nucleated_cells = forms.IntegerField(
        label="Total nucleated cells (TNC)", min_value=0, required=False
    )
    viability_percent = forms.DecimalField(
        label="Viability (%)", min_value=0, max_value=100, decimal_places=1, required=False
    )
    viable_cells = forms.IntegerField(
        label="Viable cells",
        min_value=0,
        required=False,
        help_text="Leave empty to compute from TNC × viability.",
    )
    volume_ml = forms.DecimalField(
        label="Final volume (mL)", min_value=Decimal("0.01"), decimal_places=2, required=False
    )
    qc_sterility = forms.ChoiceField(label="QC: sterility", choices=QC_CHOICES)
    qc_endotoxin = forms.ChoiceField(label="QC: endotoxin", choices=QC_CHOICES)
    qc_mycoplasma = forms.ChoiceField(label="QC: mycoplasma", choices=QC_CHOICES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in RESULT_FIELDS:
            if self.input_of(name) not in self.fields:
                self.fields[name] = CellProduct._meta.get_field(name).formfield(required=False)
        self.order_fields([self.input_of(name) for name in RESULT_FIELDS])

    @classmethod
    def input_of(cls, result: str) -> str:
        return cls.INPUTS.get(result, result)

    @property
    def input_names(self) -> str:
        """The inputs in ``RESULT_FIELDS`` order, comma-separated (for ``fields_named``)."""
        return ",".join(self.input_of(name) for name in RESULT_FIELDS)

    @classmethod
    def initial_from(cls, product: CellProduct) -> dict:
        initial = {cls.input_of(name): getattr(product, name) for name in RESULT_FIELDS}
        if product.processing_ended_at:
            initial["processing_ended_at"] = timezone.localtime(product.processing_ended_at)
        initial["viability_percent"] = (
            (product.viable_fraction * 100).quantize(Decimal("0.1"))
            if product.viable_fraction is not None
            else None
        )
        return initial

    def service_fields(self) -> dict:
        data = {name: self.cleaned_data[self.input_of(name)] for name in RESULT_FIELDS}
        percent = data["viable_fraction"]
        data["viable_fraction"] = (
            (percent / 100).quantize(Decimal("0.001")) if percent is not None else None
        )
        return data


class ReleaseForm(forms.Form):
    password = forms.CharField(
        label="Your password (release signature)",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Signing means: the product meets every release criterion.",
    )


class StoreForm(forms.Form):
    freezer = forms.CharField(max_length=40)
    rack = forms.CharField(max_length=20)
    box = forms.CharField(max_length=20)
    position = forms.CharField(max_length=20)
    expires_at = forms.DateTimeField(
        label="Expiry (cryopreserved)",
        widget=DateTimeInput(),
        help_text="Per the laboratory's validated storage period.",
    )


class ThawForm(forms.Form):
    # The allowed window is the service's rule (MAX_THAW_WINDOW_HOURS); min/max here only help
    # the browser's number input.
    use_within_hours = forms.IntegerField(
        label="Use within (hours)",
        initial=4,
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_THAW_WINDOW_HOURS}),
    )


class SplitForm(forms.Form):
    volumes_ml = forms.CharField(
        label="Aliquot volumes (mL)",
        max_length=200,
        help_text="Comma-separated, e.g. 1.5, 1.5 for two aliquots of 1.5 mL.",
    )

    def clean_volumes_ml(self):
        from decimal import Decimal, InvalidOperation

        try:
            volumes = [
                Decimal(v.strip()) for v in self.cleaned_data["volumes_ml"].split(",") if v.strip()
            ]
        except InvalidOperation:
            raise forms.ValidationError("Give volumes as numbers separated by commas.") from None
        if not all(v.is_finite() for v in volumes):
            raise forms.ValidationError("Give volumes as numbers separated by commas.")
        return volumes


class DiscardForm(forms.Form):
    reason = forms.CharField(
        label="Reason for discarding", max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class SessionForm(forms.Form):
    """Two-person identity check, injection map (one row per scalp zone) and timing."""

    submission_token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    scanned_product_code = forms.CharField(
        label="Product identifier (scan or type)",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="Scan the barcode on the product label, or type the identifier with its check character.",
    )
    scanned_mrn = forms.CharField(
        label="Patient MRN (from the wristband or chart)",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    verifier: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        label="Verified by (second person)",
        queryset=None,
        help_text="A nurse or another physician checks product and patient with you.",
    )
    verifier_password = forms.CharField(
        label="Verifier's password",
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="Typed by the verifier: it signs the second-person verification.",
    )
    started_at = forms.DateTimeField(label="Started", widget=DateTimeInput())
    ended_at = forms.DateTimeField(label="Ended", widget=DateTimeInput())
    adjuncts = forms.MultipleChoiceField(
        choices=Adjunct.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    ZONE_FIELDS = ("points", "volume", "cells")

    def __init__(self, *args, verifiers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["verifier"].queryset = verifiers
        if not self.is_bound and not self.initial.get("submission_token"):
            self.initial["submission_token"] = uuid.uuid4().hex
        for zone, label in ScalpZone.choices:
            self.fields[f"{zone}_points"] = forms.IntegerField(
                label=f"{label}: points", min_value=1, max_value=500, required=False
            )
            self.fields[f"{zone}_volume"] = forms.DecimalField(
                label=f"{label}: mL per point",
                min_value=Decimal("0.005"),
                max_value=Decimal("1"),
                decimal_places=3,
                required=False,
                widget=forms.NumberInput(attrs={"step": "0.005"}),
            )
            self.fields[f"{zone}_cells"] = forms.IntegerField(
                label=f"{label}: cells per point",
                min_value=1,
                required=False,
                widget=forms.NumberInput(attrs={"step": "1000"}),
            )

    def zone_rows(self):
        """(zone, label, points, volume, cells, warning) for the injection-map table."""
        rows = []
        for zone, label in ScalpZone.choices:
            points, volume, cells = (self[f"{zone}_{name}"] for name in self.ZONE_FIELDS)
            warning = None
            if self.is_bound:
                try:
                    warning = cells_per_point_warning(int(cells.value() or 0))
                except (TypeError, ValueError):
                    warning = None
            rows.append((zone, label, points, volume, cells, warning))
        return rows

    def clean(self):
        data = super().clean()
        zones = []
        for zone, label in ScalpZone.choices:
            values = [data.get(f"{zone}_{name}") for name in self.ZONE_FIELDS]
            if all(v in (None, "") for v in values):
                continue
            if any(v in (None, "") for v in values):
                self.add_error(
                    f"{zone}_points",
                    f"{label}: give points, mL per point and cells per point (or leave all empty).",
                )
                continue
            zones.append(
                {
                    "zone": zone,
                    "points": values[0],
                    "volume_per_point_ml": values[1],
                    "cells_per_point": values[2],
                }
            )
        if not zones and not self.errors:
            self.add_error(None, "Record at least one injected zone in the injection map.")
        data["zones"] = zones
        return data

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            name: data[name]
            for name in (
                "scanned_product_code",
                "scanned_mrn",
                "verifier",
                "verifier_password",
                "started_at",
                "ended_at",
                "submission_token",
                "adjuncts",
                "notes",
                "zones",
            )
        }


class AdverseEventForm(forms.Form):
    type = forms.ChoiceField(choices=choose(AdverseEvent.Type.choices))
    description = forms.CharField(max_length=300, required=False)
    site = forms.ChoiceField(choices=choose(AdverseEvent.Site.choices))
    grade = forms.TypedChoiceField(
        label="Grade (CTCAE 1–5)",
        coerce=int,
        choices=choose(CTCAE_GRADES),
    )
    onset_on = forms.DateField(label="Onset", widget=DateInput())
    resolved_on = forms.DateField(
        label="Resolved", required=False, widget=DateInput(), help_text="Empty while ongoing."
    )
    relatedness = forms.ChoiceField(
        label="Related to the treatment?", choices=choose(AdverseEvent.Relatedness.choices)
    )
    action_taken = forms.CharField(label="Action taken", max_length=300, required=False)
    session: forms.ModelChoiceField[TreatmentSession] = forms.ModelChoiceField(
        label="Linked session", queryset=None, required=False, empty_label="— none —"
    )
    harvest: forms.ModelChoiceField[Harvest] = forms.ModelChoiceField(
        label="Linked harvest", queryset=None, required=False, empty_label="— none —"
    )

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = patient.sessions.all()
        self.fields["harvest"].queryset = patient.harvests.all()


class FollowUpFilterForm(forms.Form):
    """The follow-up list's filters (GET); anything unknown is ignored, not an error page."""

    state = forms.ChoiceField(
        label="Show",
        required=False,
        choices=[
            ("", "All open visits"),
            ("overdue", "Overdue"),
            ("due", "Due now"),
            ("upcoming", "Upcoming"),
            ("booked", "Booked"),
        ],
    )
    site: forms.ModelChoiceField[Site] = forms.ModelChoiceField(
        label="Site", required=False, queryset=None, empty_label="All"
    )
    physician: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        label="Physician", required=False, queryset=None, empty_label="All"
    )
    due_within = forms.TypedChoiceField(
        label="Due within",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[
            ("", "Any time"),
            ("7", "1 week"),
            ("14", "2 weeks"),
            ("30", "30 days"),
            ("90", "90 days"),
        ],
    )

    def __init__(self, *args, sites, physicians, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        self.fields["physician"].queryset = physicians

    def filters(self) -> FollowUpFilter:
        if not self.is_valid():
            return FollowUpFilter()
        data = self.cleaned_data
        return FollowUpFilter(
            state=data["state"],
            site_id=data["site"].pk if data["site"] else None,
            physician_id=data["physician"].pk if data["physician"] else None,
            due_within_days=data["due_within"],
        )


class FollowUpBookForm(forms.Form):
    starts_at = forms.DateTimeField(label="Starts", widget=DateTimeInput())
    clinician: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        label="With", queryset=None, empty_label=None
    )
    notes = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, clinicians, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinician"].queryset = clinicians
