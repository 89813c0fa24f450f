"""``/api/v1/``: one router over every clinic resource."""

from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from .views import clinical, people, registry

# SimpleRouter: no root view and no ".json" suffix routes (JSON is the only format).
router = SimpleRouter(trailing_slash=True)
for prefix, viewset in (
    ("patients", people.PatientViewSet),
    ("inquiries", people.InquiryViewSet),
    ("appointments", people.AppointmentViewSet),
    ("clinicians", people.ClinicianViewSet),
    ("assessments", clinical.AssessmentViewSet),
    ("protocols", clinical.ProtocolViewSet),
    ("consent-texts", clinical.ConsentTextViewSet),
    ("plans", clinical.PlanViewSet),
    ("consents", clinical.ConsentViewSet),
    ("harvests", clinical.HarvestViewSet),
    ("cell-products", clinical.CellProductViewSet),
    ("custody-events", clinical.CustodyEventViewSet),
    ("sessions", clinical.SessionViewSet),
    ("adverse-events", clinical.AdverseEventViewSet),
    ("follow-ups", clinical.FollowUpViewSet),
    ("target-sites", clinical.TargetSiteViewSet),
    ("imaging-visits", clinical.ImagingVisitViewSet),
    ("images", clinical.ImageViewSet),
    ("outcomes", clinical.OutcomeViewSet),
    ("registry", registry.RegistryViewSet),
):
    router.register(prefix, viewset, basename=prefix)

app_name = "api"
urlpatterns = [path("", include(router.urls))]
