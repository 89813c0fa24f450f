from django.urls import path

from . import page_views

app_name = "fhir_import"
urlpatterns = [path("", page_views.upload, name="upload")]
