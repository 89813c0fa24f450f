"""Treatment: protocol → plan → consent → harvest → cell product → session → follow-up.

The chain of identity: a harvest issues a donation identifier; every cell product made from it
carries that identifier plus a product suffix, and records its source patient. Custody events
are append-only; clinical models keep full history (django-simple-history).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from anagen.clinic.common.clock import ClockDateTimeField
from anagen.clinic.common.dates import local_day, local_time
from anagen.clinic.common.scalp import ScalpZone
from anagen.clinic.intake.models import Appointment
from anagen.clinic.patients.models import Patient

DEFAULT_FOLLOW_UP_DAYS = [14, 30, 60, 90, 180, 365]
DEFAULT_FOLLOW_UP_WINDOWS = [3, 5, 7, 10, 14, 30]
MAX_CELLS_PER_POINT_WARNING = 150_000


class Method(models.TextChoices):
    SVF_MECHANICAL = "svf_mechanical", "SVF, mechanical (filtration)"
    SVF_ENZYMATIC = "svf_enzymatic", "SVF, enzymatic isolation"
    CULTURED_ADSC = "cultured_adsc", "Culture-expanded ADSC"


class Adjunct(models.TextChoices):
    PRP = "prp", "Platelet-rich plasma"
    MINOXIDIL = "minoxidil", "Minoxidil"


class ProtocolTemplate(models.Model):
    """A clinic's treatment protocol, configured in the admin and copied into each plan."""

    name = models.CharField(max_length=120, unique=True)
    method = models.CharField(max_length=24, choices=Method.choices)
    adjuncts = models.JSONField(default=list, blank=True)
    target_zones = models.JSONField(default=list)
    planned_sessions = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1)]
    )
    interval_weeks = models.PositiveSmallIntegerField(default=8, validators=[MinValueValidator(1)])
    follow_up_days = models.JSONField(default=list)
    follow_up_window_days = models.JSONField(default=list)
    planned_dose_cells = models.PositiveBigIntegerField(
        default=5_000_000, help_text="Viable cells needed for one session."
    )
    min_viable_fraction = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.700"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    shelf_life_hours_fresh = models.PositiveIntegerField(default=48)
    price_min = models.DecimalField(max_digits=9, decimal_places=2)
    price_max = models.DecimalField(max_digits=9, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return self.name


class ConsentText(models.Model):
    """One version of the consent wording. Versions are never edited once used."""

    #: What a patient signed: frozen once any consent refers to this version (``active`` is not).
    FROZEN_WHEN_SIGNED = ("version", "title", "body")

    version = models.CharField(max_length=20, unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Plain text; paragraphs separated by blank lines.")
    active = models.BooleanField(default=True)
    created_at = ClockDateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"

    def save(self, *args, **kwargs) -> None:
        self.check_not_rewritten()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        self.check_not_rewritten()

    @property
    def is_signed(self) -> bool:
        return self.pk is not None and Consent.objects.filter(consent_text_id=self.pk).exists()

    def check_not_rewritten(self) -> None:
        """Raise ValidationError if this saves new wording over a version patients signed.

        Checked on every save (the admin, a history revert, a script), not only in a form: the
        signed PDFs and the consent records point at this row as what the patient agreed to.
        """
        if self.pk is None:
            return
        stored = type(self).objects.filter(pk=self.pk).values(*self.FROZEN_WHEN_SIGNED).first()
        if stored is None:
            return
        changed = [f for f in self.FROZEN_WHEN_SIGNED if stored[f] != getattr(self, f)]
        if changed and self.is_signed:
            # Not keyed by field: the admin shows these fields read-only, outside its form.
            raise ValidationError(
                f"Patients have signed version {stored['version']}: its {', '.join(changed)} "
                "cannot change; add a new version instead."
            )


class TreatmentPlan(models.Model):
    class Status(models.TextChoices):
        AWAITING_CONSENT = "awaiting_consent", "Awaiting consent"
        CONSENTED = "consented", "Consented"
        IN_TREATMENT = "in_treatment", "In treatment"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="plans")
    protocol = models.ForeignKey(ProtocolTemplate, on_delete=models.PROTECT, related_name="plans")
    method = models.CharField(max_length=24, choices=Method.choices)
    adjuncts = models.JSONField(default=list, blank=True)
    target_zones = models.JSONField(default=list)
    planned_sessions = models.PositiveSmallIntegerField()
    interval_weeks = models.PositiveSmallIntegerField()
    follow_up_days = models.JSONField(default=list)
    follow_up_window_days = models.JSONField(default=list)
    planned_dose_cells = models.PositiveBigIntegerField()
    price_min = models.DecimalField(max_digits=9, decimal_places=2)
    price_max = models.DecimalField(max_digits=9, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.AWAITING_CONSENT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = ClockDateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Plan #{self.pk} for {self.patient.mrn} ({self.get_method_display()})"


class Consent(models.Model):
    """The patient's e-signed consent to one plan, with a PDF of exactly what was signed."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="consents")
    consent_text = models.ForeignKey(ConsentText, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(max_length=200)
    meaning = models.CharField(max_length=300)
    signed_at = models.DateTimeField()
    witnessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    snapshot_pdf = models.FileField(upload_to="consents/")
    snapshot_sha256 = models.CharField(max_length=64)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = models.TextField(blank=True)
    history = HistoricalRecords()
    audit_patient_path = "plan__patient"

    class Meta:
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"Consent v{self.consent_text.version} signed {local_day(self.signed_at)}"

    @property
    def is_valid(self) -> bool:
        return self.withdrawn_at is None


class Harvest(models.Model):
    class Site(models.TextChoices):
        PERIUMBILICAL = "periumbilical", "Periumbilical abdomen"
        FLANK = "flank", "Flank"
        THIGH = "thigh", "Thigh"
        HIP = "hip", "Hip"
        RETROAURICULAR_PUNCH = "retroauricular_punch", "Retroauricular scalp punch"
        OCCIPITAL_PUNCH = "occipital_punch", "Occipital scalp punch"

    STERILE_CHECKLIST = (
        ("skin_prep", "Skin prepared with antiseptic"),
        ("sterile_drapes", "Sterile field and drapes"),
        ("sterile_instruments", "Sterile, single-use cannula/punch and containers"),
        ("hand_hygiene_gloves", "Surgical hand hygiene and sterile gloves"),
        ("container_labelled", "Specimen container labelled at the bedside"),
    )

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="harvests")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="harvests")
    performed_at = models.DateTimeField()
    site = models.CharField(max_length=24, choices=Site.choices)
    anaesthesia = models.CharField(max_length=120, default="Local, tumescent lidocaine")
    cannula_or_punch_mm = models.DecimalField(
        "cannula or punch size (mm)",
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("6"))],
    )
    volume_ml = models.DecimalField(
        "volume (mL)",
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("100"))],
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sterile_checklist = models.JSONField(default=dict)
    notes = models.TextField(blank=True)
    donation_code = models.CharField(
        "donation identifier", max_length=14, unique=True, editable=False
    )
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"Harvest {self.donation_code}"


class DonationSequence(models.Model):
    """Last sequence number issued per facility and year (locked while issuing)."""

    facility = models.CharField(max_length=5)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["facility", "year"], name="one_sequence_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.facility}/{self.year}: {self.last}"


class CellProduct(models.Model):
    class Status(models.TextChoices):
        IN_PROCESSING = "in_processing", "In processing"
        QUARANTINE = "quarantine", "Quarantine"
        RELEASED = "released", "Released"
        STORED = "stored", "Stored (cryo)"
        THAWED = "thawed", "Thawed"
        ADMINISTERED = "administered", "Administered"
        DISCARDED = "discarded", "Discarded"
        EXPIRED = "expired", "Expired"

    class QC(models.TextChoices):
        PENDING = "pending", "Pending"
        PASS = "pass", "Pass"
        FAIL = "fail", "Fail"
        NOT_REQUIRED = "not_required", "Not required"

    class Storage(models.TextChoices):
        FRESH = "fresh", "Fresh"
        CRYO = "cryo", "Cryopreserved"

    harvest = models.ForeignKey(Harvest, on_delete=models.PROTECT, related_name="products")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cell_products")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="aliquots"
    )
    product_number = models.PositiveSmallIntegerField()
    product_code = models.CharField(
        "product identifier", max_length=20, unique=True, editable=False
    )
    method = models.CharField(max_length=24, choices=Method.choices)
    processing_started_at = models.DateTimeField()
    # The laboratory's results (RESULT_FIELDS below); the product page labels them
    # with these verbose names.
    processing_ended_at = models.DateTimeField("processing ended", null=True, blank=True)
    total_nucleated_cells = models.PositiveBigIntegerField(
        "total nucleated cells", null=True, blank=True
    )
    viable_fraction = models.DecimalField(
        "viability",
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    viable_cells = models.PositiveBigIntegerField("viable cells", null=True, blank=True)
    volume_ml = models.DecimalField(
        "volume (mL)",
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    qc_sterility = models.CharField(
        "QC: sterility", max_length=16, choices=QC.choices, default=QC.PENDING
    )
    qc_endotoxin = models.CharField(
        "QC: endotoxin", max_length=16, choices=QC.choices, default=QC.PENDING
    )
    qc_mycoplasma = models.CharField(
        "QC: mycoplasma", max_length=16, choices=QC.choices, default=QC.NOT_REQUIRED
    )
    storage = models.CharField(max_length=8, choices=Storage.choices, default=Storage.FRESH)
    freezer = models.CharField(max_length=40, blank=True)
    rack = models.CharField(max_length=20, blank=True)
    box = models.CharField(max_length=20, blank=True)
    position = models.CharField(max_length=20, blank=True)
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROCESSING)
    history = HistoricalRecords()
    #: The laboratory's results, in the order the lab records them: the one list (the results
    #: service, aliquots, results form, product page and the lab's home read it; see
    #: ``services.lifecycle.RESULT_FIELDS``).
    RESULT_FIELDS: tuple[str, ...] = (
        "processing_ended_at",
        "total_nucleated_cells",
        "viable_fraction",
        "viable_cells",
        "volume_ml",
        "qc_sterility",
        "qc_endotoxin",
        "qc_mycoplasma",
    )
    #: What a release signature vouches for: identity and quality. Storage location and expiry
    #: legitimately change after release (cryo, thaw) and are checked at administration instead.
    SIGNED_FIELDS = (
        "product_code",
        "patient_id",
        "harvest_id",
        "method",
        "total_nucleated_cells",
        "viable_fraction",
        "viable_cells",
        "volume_ml",
        "qc_sterility",
        "qc_endotoxin",
        "qc_mycoplasma",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["harvest", "product_number"], name="one_number_per_product"
            )
        ]

    def __str__(self) -> str:
        return f"Cell product {self.product_code}"

    @property
    def concentration_per_ml(self) -> float | None:
        if self.viable_cells is None or not self.volume_ml:
            return None
        return self.viable_cells / float(self.volume_ml)

    @property
    def missing_results(self) -> list[str]:
        """The verbose names of the results not recorded yet (a QC test still pending)."""
        missing = []
        for name in self.RESULT_FIELDS:
            value = getattr(self, name)
            if value is None or value == self.QC.PENDING:
                field = self._meta.get_field(name)
                missing.append(str(getattr(field, "verbose_name", name)))
        return missing

    @property
    def location(self) -> str:
        if self.storage == self.Storage.CRYO and self.freezer:
            return f"{self.freezer} / rack {self.rack} / box {self.box} / pos {self.position}"
        return "Fresh, lab bench"


class CustodyEvent(models.Model):
    """One step in a product's life: created, handed over, moved, status changed. Append-only."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        STATUS = "status", "Status change"
        HANDOVER = "handover", "Handover"
        LOCATION = "location", "Location change"
        RESULTS = "results", "Results recorded"
        LABEL = "label", "Label printed"

    product = models.ForeignKey(CellProduct, on_delete=models.PROTECT, related_name="custody")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = ClockDateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    location = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    audit_patient_path = "product__patient"

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.product_id} at {local_time(self.at)}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Custody events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Custody events are append-only.")


class TreatmentSession(models.Model):
    """An administration session: identity-checked product injected into scalp zones."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="sessions")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="sessions")
    product = models.OneToOneField(CellProduct, on_delete=models.PROTECT, related_name="session")
    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    session_number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    scanned_product_code = models.CharField(max_length=40)
    scanned_mrn = models.CharField(max_length=20)
    adjuncts = models.JSONField(default=list, blank=True)
    total_volume_ml = models.DecimalField(max_digits=6, decimal_places=2)
    total_cells = models.PositiveBigIntegerField()
    submission_token = models.CharField(max_length=64, unique=True)
    notes = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"Session {self.session_number} for {self.patient.mrn}"


class InjectionZone(models.Model):
    session = models.ForeignKey(TreatmentSession, on_delete=models.CASCADE, related_name="zones")
    zone = models.CharField(max_length=16, choices=ScalpZone.choices)
    points = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    volume_per_point_ml = models.DecimalField(
        max_digits=5,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.005")), MaxValueValidator(Decimal("1"))],
    )
    cells_per_point = models.PositiveIntegerField()
    history = HistoricalRecords()
    audit_patient_path = "session__patient"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "zone"], name="one_row_per_zone")]

    def __str__(self) -> str:
        return f"{self.get_zone_display()}: {self.points} points"

    @property
    def above_cell_warning(self) -> bool:
        return self.cells_per_point > MAX_CELLS_PER_POINT_WARNING


#: CTCAE grades of an adverse event.
CTCAE_GRADES = [
    (1, "1 mild"),
    (2, "2 moderate"),
    (3, "3 severe"),
    (4, "4 life-threatening"),
    (5, "5 death"),
]


class AdverseEvent(models.Model):
    class Type(models.TextChoices):
        BRUISING = "bruising", "Bruising"
        PAIN = "pain", "Pain"
        SWELLING = "swelling", "Swelling"
        ERYTHEMA = "erythema", "Erythema"
        INFECTION = "infection", "Infection"
        SCAR = "scar", "Scar"
        OTHER = "other", "Other"

    class Site(models.TextChoices):
        HARVEST = "harvest", "Harvest site"
        INJECTION = "injection", "Injection site"
        SYSTEMIC = "systemic", "Systemic / other"

    class Relatedness(models.TextChoices):
        UNRELATED = "unrelated", "Unrelated"
        UNLIKELY = "unlikely", "Unlikely"
        POSSIBLE = "possible", "Possible"
        PROBABLE = "probable", "Probable"
        DEFINITE = "definite", "Definite"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="adverse_events")
    session = models.ForeignKey(
        TreatmentSession,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adverse_events",
    )
    harvest = models.ForeignKey(
        Harvest, on_delete=models.PROTECT, null=True, blank=True, related_name="adverse_events"
    )
    type = models.CharField(max_length=16, choices=Type.choices)
    description = models.CharField(max_length=300, blank=True)
    site = models.CharField(max_length=16, choices=Site.choices)
    grade = models.PositiveSmallIntegerField(
        "CTCAE grade",
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        choices=CTCAE_GRADES,
    )
    onset_on = models.DateField()
    resolved_on = models.DateField(null=True, blank=True)
    relatedness = models.CharField(max_length=16, choices=Relatedness.choices)
    action_taken = models.CharField(max_length=300, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = ClockDateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-onset_on"]

    def __str__(self) -> str:
        return f"{self.get_type_display()} grade {self.grade}"


class ScheduledVisit(models.Model):
    """A follow-up visit or repeat session due from the plan, with its window."""

    class Kind(models.TextChoices):
        FOLLOW_UP = "follow_up", "Follow-up"
        REPEAT_SESSION = "repeat_session", "Repeat session"

    plan = models.ForeignKey(
        TreatmentPlan, on_delete=models.PROTECT, related_name="scheduled_visits"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="scheduled_visits")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    label = models.CharField(max_length=60)
    due_on = models.DateField()
    window_start = models.DateField()
    window_end = models.DateField()
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    completed = models.BooleanField(default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_on"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "kind", "label"], name="one_visit_per_label")
        ]

    def __str__(self) -> str:
        return f"{self.label} due {local_day(self.due_on)}"
