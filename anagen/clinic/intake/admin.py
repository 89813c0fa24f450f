from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Appointment, Inquiry


@admin.register(Inquiry)
class InquiryAdmin(SimpleHistoryAdmin):
    list_display = ("id", "received_at", "status", "preferred_site")
    list_filter = ("status", "preferred_site")


@admin.register(Appointment)
class AppointmentAdmin(SimpleHistoryAdmin):
    list_display = ("starts_at", "kind", "clinician", "site", "status")
    list_filter = ("kind", "status", "site")
