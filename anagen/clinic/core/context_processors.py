from django.conf import settings


def navigation(request):
    """Clinic name and the current user's role for the page header."""
    user = getattr(request, "user", None)
    return {
        "clinic_name": settings.ANAGEN_CLINIC_NAME,
        "user_role": getattr(user, "role", "") if user and user.is_authenticated else "",
    }
