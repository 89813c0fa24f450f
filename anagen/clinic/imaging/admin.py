from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Device


@admin.register(Device)
class DeviceAdmin(SimpleHistoryAdmin):
    list_display = ("name", "magnification", "um_per_px", "active")
