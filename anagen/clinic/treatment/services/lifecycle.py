"""The cell product's state machine: its transitions, its laboratory results and new products.

Every status change goes through ``_transition``, which leaves a custody event (``events``) and a
history row.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from anagen.clinic.accounts.models import User
from anagen.identity import (
    make_product_id,
    parse_donation_id,
)

from .. import events
from ..models import (
    CellProduct,
    Harvest,
)
from ._common import (
    Code,
    S,
    _gate,
)

TRANSITIONS: dict[str, set[str]] = {
    S.IN_PROCESSING: {S.QUARANTINE, S.DISCARDED, S.EXPIRED},
    S.QUARANTINE: {S.RELEASED, S.DISCARDED, S.EXPIRED},
    S.RELEASED: {S.ADMINISTERED, S.STORED, S.DISCARDED, S.EXPIRED},
    S.STORED: {S.THAWED, S.DISCARDED, S.EXPIRED},
    S.THAWED: {S.ADMINISTERED, S.STORED, S.DISCARDED, S.EXPIRED},  # back to cryo if unused
    S.ADMINISTERED: set(),
    S.DISCARDED: set(),
    S.EXPIRED: set(),
}
ADMINISTRABLE = (S.RELEASED, S.THAWED)
#: Aliquots are drawn after processing, before release.
SPLITTABLE = (S.QUARANTINE,)

#: The laboratory's results on a product, in the order the lab records them. The one list lives
#: on the model (``CellProduct.RESULT_FIELDS``, so the lab's selectors read it too): the results
#: service, the aliquots, the results form and the product page all read it, so a new result is
#: its model field plus its name there (and, since services name every field they take, its
#: typed parameter of ``product_record_results``: a test fails until it is added).
RESULT_FIELDS: tuple[str, ...] = CellProduct.RESULT_FIELDS
#: Results an aliquot takes in proportion to its volume; it copies the others from its source.
PROPORTIONAL_RESULTS: tuple[str, ...] = ("total_nucleated_cells", "viable_cells", "volume_ml")
#: Editable with the results, though not a result: the lab may shorten or extend the expiry.
RESULTS_ALSO_SET = ("expires_at",)


def _product_create(
    *, actor: User, harvest: Harvest, started_at: datetime, parent: CellProduct | None = None
) -> CellProduct:
    number = (
        harvest.products.order_by("-product_number")
        .values_list("product_number", flat=True)
        .first()
        or 0
    ) + 1
    donation = parse_donation_id(harvest.donation_code)
    product = CellProduct.objects.create(
        harvest=harvest,
        patient=harvest.patient,
        parent=parent,
        product_number=number,
        product_code=make_product_id(donation, number).text,
        method=harvest.plan.method,
        processing_started_at=started_at,
        expires_at=started_at + timedelta(hours=harvest.plan.protocol.shelf_life_hours_fresh),
        qc_mycoplasma=(
            CellProduct.QC.PENDING
            if harvest.plan.method == "cultured_adsc"
            else CellProduct.QC.NOT_REQUIRED
        ),
    )
    events.product_created(actor=actor, product=product, harvest=harvest)
    return product


def _transition(
    *, actor: User, product: CellProduct, to: str, reason: str, location: str = ""
) -> None:
    if to not in TRANSITIONS[product.status]:
        raise _gate(
            f"A product that is {product.get_status_display().lower()} cannot become "
            f"{CellProduct.Status(to).label.lower()}.",
            Code.WRONG_STATUS,
        )
    before = product.status
    product.status = to
    product._change_reason = reason[:100]  # type: ignore[attr-defined]  # read by simple_history
    product.save()
    events.product_status_changed(
        actor=actor, product=product, from_status=before, location=location, reason=reason
    )


def _lock(product: CellProduct) -> CellProduct:
    return (
        CellProduct.objects.select_for_update()
        .select_related("patient", "harvest__plan")
        .get(pk=product.pk)
    )
