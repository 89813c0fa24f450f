from django.urls import path

from . import views

app_name = "imaging"
urlpatterns = [
    path("patients/<int:patient_pk>/visits/new/", views.visit_new, name="visit_new"),
    path(
        "patients/<int:patient_pk>/target-sites/new/", views.target_site_new, name="target_site_new"
    ),
    path("visits/<int:pk>/", views.visit_detail, name="visit"),
    path("trichoscopy/<int:pk>/", views.trichoscopy_detail, name="trichoscopy"),
    path("trichoscopy/<int:pk>/retry/", views.trichoscopy_retry, name="trichoscopy_retry"),
    path("trichoscopy/<int:pk>/<str:kind>.png", views.trichoscopy_file, name="trichoscopy_file"),
    path("photos/<int:pk>/", views.photo_file, name="photo_file"),
]
