from django.urls import path

from . import views

app_name = "registry"

urlpatterns = [
    path("", views.home, name="home"),
    path("plot.png", views.plot, name="plot"),
    path("compare/", views.compare, name="compare"),
    path("compare/plot.png", views.compare_plot, name="compare_plot"),
    path("cohort.pdf", views.cohort_pdf, name="cohort_pdf"),
    path("expect/<int:patient_pk>/", views.expect, name="expect"),
    path("export/", views.export, name="export"),
    path("export/<slug:kind>/", views.export_file, name="export_file"),
]
