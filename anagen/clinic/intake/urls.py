from django.urls import path

from . import views

app_name = "intake"
urlpatterns = [
    path("", views.home, name="home"),
    path("request/", views.public_request, name="request"),
    path("request/thanks/", views.public_request_thanks, name="request_thanks"),
    path("inquiries/", views.inquiry_list, name="inquiries"),
    path("inquiries/<int:pk>/", views.inquiry_detail, name="inquiry"),
    path("inquiries/<int:pk>/convert/", views.inquiry_convert, name="convert"),
    path("day/", views.day_view, name="day"),
    path("week/", views.week_view, name="week"),
    path(
        "patients/<int:patient_pk>/appointments/new/", views.appointment_new, name="appointment_new"
    ),
    path("appointments/<int:pk>/status/", views.appointment_status, name="appointment_status"),
]
