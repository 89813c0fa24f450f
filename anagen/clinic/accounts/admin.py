from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Site, User


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "timezone")


@admin.register(User)
class StaffAdmin(UserAdmin):
    list_display = ("email", "first_name", "last_name", "role", "is_active")

    def has_delete_permission(self, request, obj=None):
        # Staff who ever signed, treated or edited stay on the audit trail (its history rows are
        # append-only): deactivate the account ("Active" off) instead of deleting it.
        return False

    list_filter = ("role", "is_active", "sites")
    fieldsets = (
        *(UserAdmin.fieldsets or ()),  # typed Optional; Django always sets it
        ("Clinic", {"fields": ("role", "sites", "all_sites", "is_reviewer")}),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "email", "password1", "password2", "role", "sites")}),
    )
    filter_horizontal = ("sites", "groups", "user_permissions")
