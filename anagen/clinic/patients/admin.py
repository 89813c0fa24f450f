from django.contrib import admin

from anagen.clinic.common.admin import ReadOnlyHistoryAdmin

from .models import Patient


@admin.register(Patient)
class PatientAdmin(ReadOnlyHistoryAdmin):
    list_display = ("mrn", "family_name", "given_name", "date_of_birth", "site")
    search_fields = ("mrn", "family_name", "given_name")
    list_filter = ("site",)
