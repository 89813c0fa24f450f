"""The system actor: who the clinic's scheduled jobs act as in the audit trail.

A job with no person behind it (the Celery beat expiry sweep) still records an actor on every
custody event and history row. That actor is this one account, created on first use: it has no
role (so no permission on any page or service), no usable password and is inactive, so nobody can
sign in as it; the audit trail names it as "Anagen system".
"""

from __future__ import annotations

from .models import User

SYSTEM_USERNAME = "anagen-system"
SYSTEM_EMAIL = "system@anagen.invalid"


def system_actor() -> User:
    """The one non-login system account (created the first time it is asked for)."""
    user, created = User.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={
            "email": SYSTEM_EMAIL,
            "first_name": "Anagen",
            "last_name": "system",
            "role": "",
            "is_active": False,
            "is_staff": False,
            "is_superuser": False,
            "all_sites": True,
        },
    )
    if created:
        user.set_unusable_password()
        User.objects.filter(pk=user.pk).update(password=user.password)
    return user
