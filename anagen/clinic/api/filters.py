"""django-filter for the API: date-time filters compare in UTC (a database refuses offsets
beyond ±16 h that ISO 8601 allows), a malformed value is a 400 naming the parameter."""

from __future__ import annotations

from datetime import UTC

from django.core.exceptions import ValidationError
from django.db import models
from django_filters import rest_framework as filters


class UtcDateTimeField(filters.IsoDateTimeFilter.field_class):
    def clean(self, value):
        moment = super().clean(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise ValidationError("The date is out of range.", code="invalid") from None


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class ApiFilterSet(filters.FilterSet):
    FILTER_DEFAULTS = {
        **filters.FilterSet.FILTER_DEFAULTS,
        models.DateTimeField: {"filter_class": UtcDateTimeFilter},
    }


class ApiFilterBackend(filters.DjangoFilterBackend):
    filterset_base = ApiFilterSet
