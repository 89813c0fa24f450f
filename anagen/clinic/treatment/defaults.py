"""The default protocol and consent text a new clinic starts with (editable in the admin)."""

from __future__ import annotations

from decimal import Decimal

from .models import DEFAULT_FOLLOW_UP_DAYS, DEFAULT_FOLLOW_UP_WINDOWS, ConsentText, ProtocolTemplate

CONSENT_V1 = """\
This treatment is INVESTIGATIONAL. Injecting cells from your own fat tissue (stromal vascular \
fraction, SVF) into the scalp is not an approved treatment for hair loss. Its benefit has not \
been established in large controlled trials; results vary between people and are not guaranteed \
or permanent. Approved treatments (minoxidil, finasteride) and hair transplantation have been \
discussed with me.

What happens: under local anaesthesia a small amount of fat (usually 10-30 mL) is taken by \
mini-liposuction from the abdomen, thigh or hip, or small 2-3 mm skin punches are taken behind \
the ear or at the back of the head. The tissue is processed in the clinic's laboratory and the \
cells are injected into the treated scalp zones in one session of about 1 to 1.5 hours. Repeat \
sessions may be planned about every 8 weeks.

Known risks: bruising at the harvest and injection sites (usually resolving in 1-2 weeks); \
mild pain and swelling; redness; a small scar (about the size of a lentil) after a punch biopsy; \
infection, which is uncommon; a reaction to the local anaesthetic. Unknown risks of an \
investigational therapy may exist.

My cells are for my use only (autologous). They are labelled with an identifier checked against \
my record before they are injected. I may withdraw my consent at any time before a procedure \
without affecting the rest of my care. My data are kept in the clinic's record and, without my \
name, in its outcome registry; measurements of my hair (photographs and trichoscopy) will be \
used to judge the result.
"""


def ensure_defaults() -> tuple[ProtocolTemplate, ConsentText]:
    protocol, _ = ProtocolTemplate.objects.get_or_create(
        name="SVF mechanical, 3 sessions",
        defaults={
            "method": "svf_mechanical",
            "adjuncts": ["prp"],
            "target_zones": ["frontal", "mid_scalp", "vertex"],
            "planned_sessions": 3,
            "interval_weeks": 8,
            "follow_up_days": DEFAULT_FOLLOW_UP_DAYS,
            "follow_up_window_days": DEFAULT_FOLLOW_UP_WINDOWS,
            "planned_dose_cells": 5_000_000,
            "min_viable_fraction": Decimal("0.700"),
            "price_min": Decimal("2050"),
            "price_max": Decimal("2450"),
            "currency": "EUR",
        },
    )
    consent, _ = ConsentText.objects.get_or_create(
        version="1.0",
        defaults={
            "title": "Consent to investigational autologous SVF therapy for hair loss",
            "body": CONSENT_V1,
        },
    )
    return protocol, consent
