"""``django.contrib.admin`` with the clinic's admin site (kept apart: loaded with the settings)."""

from django.contrib.admin.apps import AdminConfig


class ClinicAdminConfig(AdminConfig):
    default_site = "anagen.clinic.accounts.admin_site.ClinicAdminSite"
