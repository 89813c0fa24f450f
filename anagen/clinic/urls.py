from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from anagen.clinic.common import health

urlpatterns = [
    path("patients/", include("anagen.clinic.patients.urls")),
    path("", include("anagen.clinic.intake.urls")),
    path("assessments/", include("anagen.clinic.assessment.urls")),
    path("imaging/", include("anagen.clinic.imaging.urls")),
    path("progress/", include("anagen.clinic.progress.urls")),
    path("audit/", include("anagen.clinic.audit.urls")),
    path("treatment/", include("anagen.clinic.treatment.urls")),
    path("registry/", include("anagen.clinic.registry.urls")),
    path("review/", include("anagen.clinic.review.urls")),
    path("fhir/", include("anagen.clinic.fhir.urls")),
    path("imports/fhir/", include("anagen.clinic.fhir.page_urls")),
    path("imports/spreadsheet/", include("anagen.clinic.spreadsheets.urls")),
    path("privacy/", include("anagen.clinic.privacy.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("anagen.clinic.api.urls")),
    path("accounts/api-tokens/", include("anagen.clinic.api.token_urls")),
    path("health/", health.ready, name="health"),
    path("health/live/", health.live, name="health-live"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()

# A lost database connection gets a 503 page in clinic words; any other error the 500 page.
handler500 = "anagen.clinic.common.errors.server_error"
