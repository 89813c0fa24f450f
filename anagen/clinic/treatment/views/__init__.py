"""Staff pages of the treatment pathway: thin views over ``services`` and ``selectors``.

Access by role is enforced by ``RoleAccessMiddleware`` from ``policy.PAGES``; every object is
fetched through a site-scoped selector (404 for another site's records); every write goes
through a service, whose ValidationError is shown on the form and changes nothing.
"""

from __future__ import annotations

from .follow_ups import (
    adverse_event_new,
    follow_up_book,
    follow_ups,
)
from .lab import (
    cryo_inventory,
    expire_sweep,
    lab_bench,
    lab_home,
    lab_worklist,
    lab_worklist_pdf,
    product_detail,
    product_discard,
    product_label_pdf,
    product_label_svg,
    product_release,
    product_results,
    product_split,
    product_store,
    product_thaw,
)
from .plans import (
    consent_pdf,
    consent_sign,
    consent_withdraw,
    harvest_new,
    plan_detail,
    plan_new,
)
from .sessions import (
    aftercare_pdf,
    session_detail,
    session_new,
)

__all__ = [
    "adverse_event_new",
    "aftercare_pdf",
    "consent_pdf",
    "consent_sign",
    "consent_withdraw",
    "cryo_inventory",
    "expire_sweep",
    "follow_up_book",
    "follow_ups",
    "harvest_new",
    "lab_bench",
    "lab_home",
    "lab_worklist",
    "lab_worklist_pdf",
    "plan_detail",
    "plan_new",
    "product_detail",
    "product_discard",
    "product_label_pdf",
    "product_label_svg",
    "product_release",
    "product_results",
    "product_split",
    "product_store",
    "product_thaw",
    "session_detail",
    "session_new",
]
