"""Which site's records a member of staff may touch: the second half of every access check.

``policy.py`` says what a role may do; this module says where. Staff work at some sites
(``User.sites``) or, for network-wide roles, at all of them (``User.all_sites``). Selectors scope
every read with ``sites_for`` (a record of another site is a 404, never revealed), and every
write service calls ``require_site_access`` before it changes anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied

from .policy import refusal_logged

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from .models import Site, User


def sites_for(*, user: User) -> QuerySet[Site]:
    """The sites whose records ``user`` may see (all of them for network-wide staff)."""
    from .models import Site

    if user.all_sites or user.is_superuser:
        return Site.objects.all()
    return user.sites.all()


def require_site_access(*, user: User, site_id: int) -> None:
    """Raise PermissionDenied unless ``user`` works at the site (used by every write service)."""
    if not sites_for(user=user).filter(pk=site_id).exists():
        refusal_logged(user, f"site:{site_id}")
        raise PermissionDenied("This record belongs to a site you do not work at.")  # guard: site
