from django.conf import settings

from anagen.clinic.accounts.policy import Can, home_page


def navigation(request):
    """Clinic name, ``can`` (the access policy as templates ask it) and ``home_page`` (the URL
    name of the user's start page, ``policy.home_page``)."""
    user = getattr(request, "user", None)
    return {
        "clinic_name": settings.ANAGEN_CLINIC_NAME,
        "can": Can(user),
        "home_page": home_page(user),
    }
