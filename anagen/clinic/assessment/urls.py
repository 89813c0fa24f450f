from django.urls import path

from . import views

app_name = "assessment"
urlpatterns = [
    path("patients/<int:patient_pk>/new/", views.assessment_new, name="new"),
    path("<int:pk>/", views.assessment_detail, name="detail"),
    path("<int:pk>/override/", views.decision_override, name="override"),
]
