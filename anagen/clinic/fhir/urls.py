from django.urls import path, re_path

from . import views

app_name = "fhir"
urlpatterns = [
    path("metadata", views.Metadata.as_view(), name="metadata"),
    re_path(
        r"^Patient/(?P<ident>[A-Za-z0-9\-.]{1,64})/\$everything$",
        views.Everything.as_view(),
        name="everything",
    ),
    re_path(r"^(?P<kind>[A-Za-z]{1,64})/?$", views.Search.as_view(), name="search"),
    re_path(
        r"^(?P<kind>[A-Za-z]{1,64})/(?P<ident>[A-Za-z0-9\-.]{1,64})$",
        views.Read.as_view(),
        name="read",
    ),
]
