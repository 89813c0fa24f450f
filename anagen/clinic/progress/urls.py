from django.urls import path

from . import views

app_name = "progress"
urlpatterns = [
    path("patients/<int:patient_pk>/", views.progress, name="patient"),
    path("patients/<int:patient_pk>/sites/<int:site_pk>.png", views.plot, name="plot"),
    path("patients/<int:patient_pk>/compare/", views.compare, name="compare"),
    path("patients/<int:patient_pk>/report.pdf", views.report_pdf, name="report"),
]
