"""Assessments and decisions; the treatment pathway; imaging; the outcome table."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from anagen.clinic.assessment.models import Assessment, EligibilityDecision
from anagen.clinic.imaging.models import ImagingVisit, TargetSite, TrichoscopyImage
from anagen.clinic.patients.models import Patient
from anagen.clinic.registry.models import OutcomeRecord
from anagen.clinic.treatment.models import (
    AdverseEvent,
    CellProduct,
    Consent,
    ConsentText,
    CustodyEvent,
    Harvest,
    InjectionZone,
    ProtocolTemplate,
    ScheduledVisit,
    TreatmentPlan,
    TreatmentSession,
)

from .common import Input, ModelInput, ReadOnlyModelSerializer, ScopedPrimaryKey, staff_field


def patient_field() -> ScopedPrimaryKey:
    return ScopedPrimaryKey(queryset=Patient.objects.all(), site_field="site")


# --- assessment -----------------------------------------------------------------------------


class DecisionSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = EligibilityDecision
        fields = "__all__"


class AssessmentSerializer(ReadOnlyModelSerializer):
    decision = DecisionSerializer()

    class Meta:
        model = Assessment
        fields = "__all__"


class AssessmentInput(ModelInput):
    patient = patient_field()

    class Meta:
        model = Assessment
        exclude = ["id", "assessed_by"]
        extra_kwargs = {"assessed_at": {"required": False, "allow_null": True}}


class DecisionOverrideInput(Input):
    outcome = serializers.ChoiceField(
        choices=EligibilityDecision._meta.get_field("outcome").choices
    )
    reason = serializers.CharField()


# --- treatment ------------------------------------------------------------------------------


class ProtocolSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = ProtocolTemplate
        fields = "__all__"


class ConsentTextSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = ConsentText
        fields = ["id", "version", "title", "body", "active"]


class PlanSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = TreatmentPlan
        fields = "__all__"


class PlanInput(Input):
    patient = patient_field()
    protocol = serializers.PrimaryKeyRelatedField(queryset=ProtocolTemplate.objects.all())
    method = serializers.CharField(required=False)
    adjuncts = serializers.ListField(child=serializers.CharField(), required=False)
    target_zones = serializers.ListField(child=serializers.CharField(), required=False)
    planned_sessions = serializers.IntegerField(required=False, min_value=1, max_value=50)
    interval_weeks = serializers.IntegerField(required=False, min_value=1, max_value=104)
    follow_up_days = serializers.ListField(child=serializers.IntegerField(), required=False)
    follow_up_window_days = serializers.ListField(child=serializers.IntegerField(), required=False)
    planned_dose_cells = serializers.IntegerField(required=False, min_value=1)
    price_min = serializers.DecimalField(max_digits=10, decimal_places=2, required=False)
    price_max = serializers.DecimalField(max_digits=10, decimal_places=2, required=False)


class ConsentSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = Consent
        exclude = ["snapshot_pdf"]


class ConsentInput(Input):
    plan = ScopedPrimaryKey(queryset=TreatmentPlan.objects.all(), site_field="patient__site")
    consent_text = serializers.PrimaryKeyRelatedField(queryset=ConsentText.objects.all())
    signer_name = serializers.CharField(max_length=160)
    agrees = serializers.BooleanField()


class ReasonInput(Input):
    reason = serializers.CharField()


class HarvestSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = Harvest
        fields = "__all__"


class HarvestInput(Input):
    plan = ScopedPrimaryKey(queryset=TreatmentPlan.objects.all(), site_field="patient__site")
    performed_at = serializers.DateTimeField()
    site = serializers.ChoiceField(choices=Harvest.Site.choices)
    cannula_or_punch_mm = serializers.DecimalField(max_digits=4, decimal_places=1)
    volume_ml = serializers.DecimalField(max_digits=6, decimal_places=1)
    sterile_checklist = serializers.DictField(child=serializers.BooleanField())
    anaesthesia = serializers.CharField(required=False, max_length=120)
    notes = serializers.CharField(required=False, allow_blank=True)


class CellProductSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = CellProduct
        fields = "__all__"


class CustodyEventSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = CustodyEvent
        fields = "__all__"


class ResultsInput(Input):
    processing_ended_at = serializers.DateTimeField(required=False, allow_null=True)
    total_nucleated_cells = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    viable_fraction = serializers.DecimalField(
        max_digits=4, decimal_places=3, required=False, allow_null=True
    )
    viable_cells = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    volume_ml = serializers.DecimalField(
        max_digits=6, decimal_places=2, required=False, allow_null=True
    )
    qc_sterility = serializers.ChoiceField(choices=CellProduct.QC.choices, required=False)
    qc_endotoxin = serializers.ChoiceField(choices=CellProduct.QC.choices, required=False)
    qc_mycoplasma = serializers.ChoiceField(choices=CellProduct.QC.choices, required=False)
    expires_at = serializers.DateTimeField(required=False)


class ReleaseInput(Input):
    password = serializers.CharField(
        write_only=True, help_text="The releasing technician's password (their e-signature)."
    )


class StoreInput(Input):
    freezer = serializers.CharField(max_length=40)
    rack = serializers.CharField(max_length=40)
    box = serializers.CharField(max_length=40)
    position = serializers.CharField(max_length=8)
    expires_at = serializers.DateTimeField()


class ThawInput(Input):
    use_within_hours = serializers.IntegerField(
        required=False, default=4, min_value=1, max_value=24
    )


class InjectionZoneSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = InjectionZone
        exclude = ["session"]


class SessionSerializer(ReadOnlyModelSerializer):
    zones = InjectionZoneSerializer(many=True)

    class Meta:
        model = TreatmentSession
        exclude = ["submission_token"]


class ZoneInput(Input):
    zone = serializers.CharField(max_length=16)
    points = serializers.IntegerField(min_value=1, max_value=1000)
    volume_per_point_ml = serializers.DecimalField(max_digits=5, decimal_places=3)
    cells_per_point = serializers.IntegerField(min_value=1, max_value=10_000_000)


class AdministerInput(Input):
    plan = ScopedPrimaryKey(queryset=TreatmentPlan.objects.all(), site_field="patient__site")
    scanned_product_code = serializers.CharField(max_length=40)
    scanned_mrn = serializers.CharField(max_length=20)
    verifier = staff_field(help_text="The second person (physician or nurse) who checked.")
    verifier_password = serializers.CharField(write_only=True)
    zones = ZoneInput(many=True)
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    adjuncts = serializers.ListField(child=serializers.CharField(), required=False)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class AdverseEventSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = AdverseEvent
        fields = "__all__"


class AdverseEventInput(Input):
    patient = patient_field()
    type = serializers.ChoiceField(choices=AdverseEvent.Type.choices)
    site = serializers.ChoiceField(choices=AdverseEvent.Site.choices)
    grade = serializers.IntegerField(min_value=1, max_value=5)
    onset_on = serializers.DateField()
    relatedness = serializers.ChoiceField(choices=AdverseEvent.Relatedness.choices)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    resolved_on = serializers.DateField(required=False, allow_null=True)
    action_taken = serializers.CharField(required=False, allow_blank=True, default="")
    session = ScopedPrimaryKey(
        queryset=TreatmentSession.objects.all(), site_field="patient__site", required=False
    )
    harvest = ScopedPrimaryKey(
        queryset=Harvest.objects.all(), site_field="patient__site", required=False
    )


class FollowUpSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = ScheduledVisit
        fields = "__all__"


class FollowUpBookInput(Input):
    starts_at = serializers.DateTimeField()
    clinician = staff_field()
    duration_minutes = serializers.IntegerField(required=False, min_value=1, max_value=600)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


# --- imaging ----------------------------------------------------------------------------------


class TargetSiteSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = TargetSite
        fields = "__all__"


class ImagingVisitSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = ImagingVisit
        fields = "__all__"


class ImagingVisitInput(Input):
    patient = patient_field()
    taken_on = serializers.DateField()
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class CorrectedCountsSerializer(serializers.Serializer):
    hair_count = serializers.IntegerField()
    terminal_count = serializers.IntegerField()
    vellus_count = serializers.IntegerField()
    density_per_cm2 = serializers.FloatField(allow_null=True)
    terminal_density_per_cm2 = serializers.FloatField(allow_null=True)


class ImageAnalysisSerializer(ReadOnlyModelSerializer):
    """A trichoscopy image with its automatic analysis (``hair_count``, ``density_per_cm2``, …)
    and, after a manual correction, ``corrected_counts`` (the pixels are served by the clinic's
    pages, not here)."""

    corrected_counts = serializers.SerializerMethodField()

    @extend_schema_field(CorrectedCountsSerializer(allow_null=True))
    def get_corrected_counts(self, record: TrichoscopyImage) -> dict | None:
        return record.corrected_counts() if record.is_corrected else None

    class Meta:
        model = TrichoscopyImage
        exclude = ["image", "overlay", "result", "growth_result"]


class CorrectionInput(Input):
    removed_hair_ids = serializers.ListField(child=serializers.IntegerField(min_value=0))
    added_terminal = serializers.IntegerField(required=False, default=0, min_value=0)
    added_vellus = serializers.IntegerField(required=False, default=0, min_value=0)
    note = serializers.CharField(max_length=200)


# --- outcomes ---------------------------------------------------------------------------------


class OutcomeSerializer(ReadOnlyModelSerializer):
    """One row of the outcome table (visit × target site). Like the registry pages: no link
    back to the patient, and no real date (``visit_day`` counts from the baseline visit; a
    real date would undo the de-identified export's date shift)."""

    class Meta:
        model = OutcomeRecord
        exclude = ["patient", "visit", "image", "target_site", "taken_on", "refreshed_at"]
