from allauth.account.adapter import DefaultAccountAdapter


class StaffAccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by an administrator; nobody signs up on the web."""

    def is_open_for_signup(self, request):
        return False

    def get_login_redirect_url(self, request):
        """A blinded reviewer has no day list: they start at their review queue."""
        from django.urls import reverse

        from .policy import Perm, allows

        user = request.user
        if not allows(user, Perm.DAY_VIEW) and allows(user, Perm.REVIEW_SCORE):
            return reverse("review:queue")
        return super().get_login_redirect_url(request)
