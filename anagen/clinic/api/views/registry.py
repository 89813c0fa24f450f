"""Cohort statistics of the registry (the same selectors and analysis as its pages)."""

from __future__ import annotations

import math

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from anagen.clinic.accounts.policy import Perm
from anagen.clinic.registry import analysis, selectors
from anagen.clinic.registry.forms import CohortForm

from ..base import ApiViewSet
from ..error_codes import ApiErrorCode

COHORT_PARAMS = [
    OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, description=text)
    for name, text in (
        ("measure", "One of: " + ", ".join(analysis.MEASURES)),
        ("sex", "Sex at baseline"),
        ("age_band", "Age band at baseline (as on the registry page)"),
        ("stage", "Stage at baseline"),
        ("protocol", "Protocol name"),
        ("prp", "'yes' or 'no'"),
        ("cell_band", "'lt10m', '10-50m' or 'gt50m'"),
        ("site", "Clinic site id"),
        ("zone", "Scalp zone"),
    )
]


class WindowSerializer(serializers.Serializer):
    window_day = serializers.FloatField()
    n = serializers.IntegerField()
    n_missing = serializers.IntegerField()
    mean_change = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    median_change = serializers.FloatField(allow_null=True)
    responder_rate = serializers.FloatField(allow_null=True)
    responder_ci_low = serializers.FloatField(allow_null=True)
    responder_ci_high = serializers.FloatField(allow_null=True)


class StatisticsSerializer(serializers.Serializer):
    measure = serializers.CharField()
    unit = serializers.CharField()
    cohort = serializers.CharField()
    n_patients = serializers.IntegerField()
    windows = WindowSerializer(many=True)


def _number(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


class RegistryViewSet(ApiViewSet):
    """Cohorts and their statistics (de-identified: no names, no MRNs, no real dates)."""

    perms = {"statistics": Perm.REGISTRY_VIEW}
    serializer_class = StatisticsSerializer
    pagination_class = None  # type: ignore[assignment]
    filter_backends: list[type] = []

    @extend_schema(parameters=COHORT_PARAMS, responses={200: StatisticsSerializer})
    @action(detail=False, methods=["get"])
    def statistics(self, request):
        """Change from baseline of a measure per follow-up window, with 95 % intervals."""
        measure_key = request.query_params.get("measure") or analysis.DEFAULT_MEASURE
        if measure_key not in analysis.MEASURES:
            raise serializers.ValidationError(
                {
                    "measure": [
                        serializers.ErrorDetail("Unknown measure.", code=ApiErrorCode.INVALID)
                    ]
                }
            )
        form = CohortForm(request.query_params, user=request.user)
        if not form.is_valid():
            raise serializers.ValidationError(
                {
                    k: [serializers.ErrorDetail(m, code=ApiErrorCode.INVALID) for m in v]
                    for k, v in form.errors.items()
                }
            )
        measure = analysis.MEASURES[measure_key]
        frame = selectors.outcome_frame(
            user=request.user, cohort=form.cohort(), columns=analysis.frame_columns(measure)
        )
        windows = [
            {name: _number(getattr(w, name)) for name in WindowSerializer().fields}
            for w in analysis.summarize(frame, measure)
        ]
        return Response(
            StatisticsSerializer(
                {
                    "measure": measure.column,
                    "unit": measure.unit,
                    "cohort": form.description(),
                    "n_patients": len(analysis.patients(frame)),
                    "windows": windows,
                }
            ).data
        )
