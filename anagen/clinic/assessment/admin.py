from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Assessment, EligibilityDecision


@admin.register(Assessment)
class AssessmentAdmin(SimpleHistoryAdmin):
    list_display = ("patient", "assessed_at", "assessed_by")


@admin.register(EligibilityDecision)
class EligibilityDecisionAdmin(SimpleHistoryAdmin):
    list_display = ("assessment", "outcome", "override_outcome", "ruleset_version")
