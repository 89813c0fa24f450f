from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("patients/<int:pk>/", views.patient_audit, name="patient"),
    path("log/", views.network_audit, name="network"),
]
