"""Admin: protocols and consent wording are configured here; clinical records are read-only."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

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
        # A version that a patient has signed is never edited: add a new version instead.
        if obj is not None and Consent.objects.filter(consent_text=obj).exists():
            return ("version", "title", "body")
        return ()

    def has_delete_permission(self, request, obj=None):
        if obj is not None and Consent.objects.filter(consent_text=obj).exists():
            return False
        return super().has_delete_permission(request, obj)


class ReadOnlyAdminMixin:
    """Clinical records change only through the staff pages (services), never the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyHistoryAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    pass


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
class CustodyEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
