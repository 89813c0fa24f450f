from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

from .policy import home_page


class StaffAccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by an administrator; nobody signs up on the web."""

    def is_open_for_signup(self, request):
        return False

    def get_client_ip(self, request):
        """allauth's own login rate limits count the same client address as the lockout."""
        from django.core.exceptions import PermissionDenied

        from .client_ip import client_ip

        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine client IP address")
        return ip

    def get_login_redirect_url(self, request):
        # Each member of staff starts at their own work (policy.home_page): the day, the lab,
        # the registry or the review queue. A ?next= still wins (allauth reads it first).
        return reverse(home_page(request.user))
