"""The clinic's URLs plus one view that fails, for the server-error page test."""

from django.urls import path

from anagen.clinic.urls import urlpatterns as clinic_urlpatterns


def boom(request):
    raise RuntimeError("secret detail that must never reach the page")


urlpatterns = [*clinic_urlpatterns, path("boom/", boom, name="boom")]
