from django.contrib import admin

from anagen.clinic.common.admin import ReadOnlyHistoryAdmin

from .models import Assessment, EligibilityDecision


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyHistoryAdmin):
    list_display = ("patient", "assessed_at", "assessed_by")


@admin.register(EligibilityDecision)
class EligibilityDecisionAdmin(ReadOnlyHistoryAdmin):
    list_display = ("assessment", "outcome", "override_outcome", "ruleset_version")
