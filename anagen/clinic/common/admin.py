"""The admin is for configuration only: clinical records are shown read-only, never changed.

Clinical records change only through the staff pages, whose services enforce the clinic's rules
(eligibility overrides with a reason, custody events, signatures). The admin would skip all of
that, so a clinical model's admin refuses add, change, delete and history revert for everyone,
superusers included (``ModelAdmin`` permissions, not Django model permissions, which a superuser
always holds).
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin


class ReadOnlyAdminMixin:
    """No add, change or delete (and so no "delete selected" action) for anyone."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


class ReadOnlyHistoryAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    """History can be read; a version cannot be reverted to (simple-history saves a POST to a
    history page with only the view permission checked)."""

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied("Clinical records are not changed in the admin.")
        return super().history_form_view(request, object_id, version_id, extra_context)
