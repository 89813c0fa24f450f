from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

from .policy import Perm, allows


class StaffAccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by an administrator; nobody signs up on the web."""

    def is_open_for_signup(self, request):
        return False

    def get_login_redirect_url(self, request):
        # A researcher or a blinded reviewer has no day list: each starts at their own work.
        user = request.user
        if not allows(user, Perm.DAY_VIEW):
            if allows(user, Perm.REGISTRY_VIEW):
                return reverse("registry:home")
            if allows(user, Perm.REVIEW_SCORE):
                return reverse("review:queue")
        return super().get_login_redirect_url(request)
