"""The API-token pages of the user's security page (like allauth's own pages, every signed-in
member of staff may use them for their own tokens)."""

from django.urls import path

from . import pages

app_name = "api_tokens"
urlpatterns = [
    path("new/", pages.token_create, name="create"),
    path("<int:pk>/", pages.token_created, name="created"),
    path("<int:pk>/revoke/", pages.token_revoke, name="revoke"),
]
