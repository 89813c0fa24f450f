from django.urls import path

from . import views

# Plain converters (no regexes): the resource type and id are checked by the views, after
# authentication, so an anonymous caller is refused before anything about the URL is said.
app_name = "fhir"
urlpatterns = [
    path("metadata", views.Metadata.as_view(), name="metadata"),
    path("Patient/<str:ident>/$everything", views.Everything.as_view(), name="everything"),
    path("<str:kind>", views.Search.as_view(), name="search"),
    path("<str:kind>/", views.Search.as_view()),
    path("<str:kind>/_search", views.SearchByPost.as_view(), name="search_post"),
    path("<str:kind>/<str:ident>", views.Read.as_view(), name="read"),
]
