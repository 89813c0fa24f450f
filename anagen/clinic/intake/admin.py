from django.contrib import admin

from anagen.clinic.common.admin import ReadOnlyHistoryAdmin

from .models import Appointment, Inquiry


@admin.register(Inquiry)
class InquiryAdmin(ReadOnlyHistoryAdmin):
    list_display = ("id", "received_at", "status", "preferred_site")
    list_filter = ("status", "preferred_site")


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyHistoryAdmin):
    list_display = ("starts_at", "kind", "clinician", "site", "status")
    list_filter = ("kind", "status", "site")
