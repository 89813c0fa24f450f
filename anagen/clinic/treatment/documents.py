"""The documents the treatment prints: what each one says lives in its template; what it is
given lives here, so a page, a service and a test render the same document."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string

from anagen.clinic.accounts.models import User
from anagen.clinic.common.scalp import ScalpZone

from .models import Adjunct, ConsentText, TreatmentPlan


def consent_snapshot_html(
    *,
    plan: TreatmentPlan,
    consent_text: ConsentText,
    signer_name: str,
    signed_at: datetime,
    meaning: str,
    witness: User,
) -> str:
    """The page the patient signs: the whole plan (method, zones, sessions, dose, follow-up
    schedule, quote), the consent text, the site's contact details and the signature."""
    return render_to_string(
        "treatment/consent_snapshot.html",
        {
            "plan": plan,
            "patient": plan.patient,
            "text": consent_text,
            "paragraphs": [p.strip() for p in consent_text.body.split("\n\n") if p.strip()],
            "zones": [ScalpZone(z).label for z in plan.target_zones],
            "adjuncts": [Adjunct(a).label for a in plan.adjuncts],
            "follow_ups": [
                {"day": day, "window": window}
                for day, window in zip(plan.follow_up_days, plan.follow_up_window_days, strict=True)
            ],
            "signer_name": signer_name,
            "signed_at": signed_at,
            "meaning": meaning,
            "witness": witness,
            "clinic_name": settings.ANAGEN_CLINIC_NAME,
        },
    )
