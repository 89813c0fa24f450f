from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("patients/<int:pk>/export/", views.patient_export, name="export"),
    path("patients/<int:pk>/erase/", views.patient_erase, name="erase"),
]
