"""The custody log of a cell product: one typed function per kind of ``CustodyEvent``.

Each function appends one (append-only) event describing the product as it is now, and asks for
exactly what that kind of event must record: a handover names who received the product, a status
change the status it left, a creation its harvest. Services call these; nothing else writes custody
events.
"""

from __future__ import annotations

from collections.abc import Sequence

from anagen.clinic.accounts.models import User

from .models import CellProduct, CustodyEvent, Harvest

K = CustodyEvent.Kind


def _append(
    *,
    actor: User,
    product: CellProduct,
    kind: CustodyEvent.Kind,
    reason: str,
    location: str = "",
    from_status: str = "",
) -> CustodyEvent:
    return CustodyEvent.objects.create(
        product=product,
        kind=kind,
        actor=actor,
        from_status=from_status,
        to_status=product.status,
        location=location or product.location,
        reason=reason,
    )


def product_created(*, actor: User, product: CellProduct, harvest: Harvest) -> CustodyEvent:
    """A new product (the specimen, or an aliquot) from ``harvest``."""
    return _append(
        actor=actor,
        product=product,
        kind=K.CREATED,
        location="Harvest room",
        reason=f"Specimen from harvest {harvest.donation_code}",
    )


def product_status_changed(
    *, actor: User, product: CellProduct, from_status: str, reason: str, location: str = ""
) -> CustodyEvent:
    """``product`` moved from ``from_status`` to its current status (``lifecycle._transition``)."""
    return _append(
        actor=actor,
        product=product,
        kind=K.STATUS,
        from_status=from_status,
        location=location,
        reason=reason,
    )


def product_results_recorded(*, actor: User, product: CellProduct) -> CustodyEvent:
    """The laboratory recorded results (``lifecycle.RESULT_FIELDS``) on ``product``."""
    return _append(
        actor=actor, product=product, kind=K.RESULTS, reason="Processing results recorded"
    )


def product_aliquots_drawn(
    *, actor: User, product: CellProduct, aliquots: Sequence[CellProduct]
) -> CustodyEvent:
    """Aliquots were drawn from ``product``: its counts and volume changed (a results event)."""
    return _append(
        actor=actor,
        product=product,
        kind=K.RESULTS,
        reason=f"{len(aliquots)} aliquot(s) drawn: " + ", ".join(a.product_code for a in aliquots),
    )


def product_located(*, actor: User, product: CellProduct, reason: str) -> CustodyEvent:
    """``product`` was placed at its current location (``CellProduct.location``)."""
    return _append(actor=actor, product=product, kind=K.LOCATION, reason=reason)


def product_label_printed(*, actor: User, product: CellProduct) -> CustodyEvent:
    """A label of ``product`` was printed."""
    return _append(actor=actor, product=product, kind=K.LABEL, reason="Label printed")


def product_handed_over(
    *, actor: User, product: CellProduct, to_user: User, location: str, reason: str = ""
) -> CustodyEvent:
    """``actor`` handed ``product`` to ``to_user`` at ``location``."""
    return _append(
        actor=actor,
        product=product,
        kind=K.HANDOVER,
        location=location,
        reason=f"Handed to {to_user.display_name}. {reason}".strip(),
    )
