"""Admin: protocols and consent wording are configured here; clinical records are read-only."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from anagen.clinic.common.admin import ReadOnlyAdmin, ReadOnlyHistoryAdmin

from .models import (
    AdverseEvent,
    CellProduct,
    Consent,
    ConsentText,
    CustodyEvent,
    Harvest,
    ProtocolTemplate,
    ScheduledVisit,
    TreatmentPlan,
    TreatmentSession,
)


@admin.register(ProtocolTemplate)
class ProtocolTemplateAdmin(SimpleHistoryAdmin):
    list_display = ("name", "method", "planned_sessions", "interval_weeks", "active")
    list_filter = ("active", "method")


@admin.register(ConsentText)
class ConsentTextAdmin(SimpleHistoryAdmin):
    list_display = ("version", "title", "active", "created_at")
    list_filter = ("active",)

    def get_readonly_fields(self, request, obj=None):
        # The rule itself is ConsentText.check_not_rewritten; this only shows it in the form.
        if obj is not None and obj.is_signed:
            return ConsentText.FROZEN_WHEN_SIGNED
        return ()

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_signed:
            return False  # also refused by the database (Consent.consent_text is PROTECT)
        return super().has_delete_permission(request, obj)


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(ReadOnlyHistoryAdmin):
    list_display = ("pk", "patient", "method", "status", "created_at")
    list_filter = ("status", "method")


@admin.register(Consent)
class ConsentAdmin(ReadOnlyHistoryAdmin):
    list_display = ("plan", "consent_text", "signer_name", "signed_at", "withdrawn_at")


@admin.register(Harvest)
class HarvestAdmin(ReadOnlyHistoryAdmin):
    list_display = ("donation_code", "patient", "site", "volume_ml", "performed_at")


@admin.register(CellProduct)
class CellProductAdmin(ReadOnlyHistoryAdmin):
    list_display = ("product_code", "patient", "status", "viable_cells", "expires_at")
    list_filter = ("status", "method", "storage")


@admin.register(CustodyEvent)
class CustodyEventAdmin(ReadOnlyAdmin):
    list_display = ("product", "kind", "at", "actor", "from_status", "to_status")


@admin.register(TreatmentSession)
class TreatmentSessionAdmin(ReadOnlyHistoryAdmin):
    list_display = ("patient", "session_number", "started_at", "performed_by", "verified_by")


@admin.register(AdverseEvent)
class AdverseEventAdmin(ReadOnlyHistoryAdmin):
    list_display = ("patient", "type", "grade", "onset_on", "relatedness")


@admin.register(ScheduledVisit)
class ScheduledVisitAdmin(ReadOnlyHistoryAdmin):
    list_display = ("patient", "label", "kind", "due_on", "completed")
