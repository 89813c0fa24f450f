from __future__ import annotations

from typing import Any

from rest_framework import serializers

from anagen.clinic.accounts.access import sites_for
from anagen.clinic.accounts.models import Site, User

from ..base import StrictMixin, StrictSerializer


class ScopedPrimaryKey(serializers.PrimaryKeyRelatedField):
    """A record id, looked up only among the caller's sites (another site's id does not exist)."""

    def __init__(self, *, site_field: str, **kwargs: Any):
        self.site_field = site_field
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context["request"]
        queryset = super().get_queryset()
        if self.site_field == "pk":
            return queryset.filter(pk__in=sites_for(user=request.user))
        return queryset.filter(**{f"{self.site_field}__in": sites_for(user=request.user)})


def site_field(**kwargs: Any) -> ScopedPrimaryKey:
    return ScopedPrimaryKey(queryset=Site.objects.all(), site_field="pk", **kwargs)


def staff_field(**kwargs: Any) -> serializers.PrimaryKeyRelatedField:
    """A member of staff by id (the service checks their role and site)."""
    return serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), **kwargs
    )


class ReadOnlyModelSerializer(serializers.ModelSerializer):
    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            field.read_only = True
        return fields


class Input(StrictSerializer):
    """Base of the actions' input."""


class ModelInput(StrictMixin, serializers.ModelSerializer):
    """Input shaped like a model's fields (the service still validates every clinical rule)."""
