from django.conf import settings

from anagen.clinic.accounts.policy import Can


def navigation(request):
    """Clinic name, and ``can``: the access policy as templates ask it."""
    user = getattr(request, "user", None)
    return {
        "clinic_name": settings.ANAGEN_CLINIC_NAME,
        "can": Can(user),
    }
