from django.urls import path

from . import views

app_name = "treatment"
urlpatterns = [
    path("patients/<int:patient_pk>/plans/new/", views.plan_new, name="plan_new"),
    path(
        "patients/<int:patient_pk>/adverse-events/new/",
        views.adverse_event_new,
        name="adverse_event_new",
    ),
    path("plans/<int:pk>/", views.plan_detail, name="plan"),
    path("plans/<int:pk>/consent/", views.consent_sign, name="consent_sign"),
    path("plans/<int:pk>/harvest/", views.harvest_new, name="harvest_new"),
    path("plans/<int:pk>/session/", views.session_new, name="session_new"),
    path("consents/<int:pk>/pdf/", views.consent_pdf, name="consent_pdf"),
    path("consents/<int:pk>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("lab/", views.lab_bench, name="lab_bench"),
    path("lab/home/", views.lab_home, name="lab_home"),
    path("lab/cryo/", views.cryo_inventory, name="cryo_inventory"),
    path("lab/worklist/", views.lab_worklist, name="lab_worklist"),
    path("lab/worklist.pdf", views.lab_worklist_pdf, name="lab_worklist_pdf"),
    path("lab/expiry-sweep/", views.expire_sweep, name="expire_sweep"),
    path("products/<int:pk>/", views.product_detail, name="product"),
    path("products/<int:pk>/results/", views.product_results, name="product_results"),
    path("products/<int:pk>/release/", views.product_release, name="product_release"),
    path("products/<int:pk>/store/", views.product_store, name="product_store"),
    path("products/<int:pk>/thaw/", views.product_thaw, name="product_thaw"),
    path("products/<int:pk>/discard/", views.product_discard, name="product_discard"),
    path("products/<int:pk>/split/", views.product_split, name="product_split"),
    path("products/<int:pk>/label.pdf", views.product_label_pdf, name="label_pdf"),
    path("products/<int:pk>/label.svg", views.product_label_svg, name="label_svg"),
    path("sessions/<int:pk>/", views.session_detail, name="session"),
    path("sessions/<int:pk>/aftercare.pdf", views.aftercare_pdf, name="aftercare_pdf"),
    path("follow-ups/", views.follow_ups, name="follow_ups"),
    path("follow-ups/<int:pk>/book/", views.follow_up_book, name="follow_up_book"),
]
