"""The laboratory: results, aliquots, release (four eyes), storage, thawing, discard, expiry."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet

from anagen.clinic.accounts.access import require_site_access, sites_for
from anagen.clinic.accounts.models import Site, User
from anagen.clinic.accounts.passwords import (
    counts_password_failures,
)
from anagen.clinic.accounts.policy import Perm, require
from anagen.clinic.accounts.system import system_actor
from anagen.clinic.audit.models import Signature
from anagen.clinic.audit.signatures import signature_sign
from anagen.clinic.common import clock

from .. import events, storage
from ..models import CellProduct
from ..selectors import four_eyes_refusal, release_gates
from ._common import (
    CLOCK_SKEW,
    KEEP,
    MAX_ALIQUOTS,
    MAX_THAW_WINDOW_HOURS,
    Code,
    Keep,
    S,
    _gate,
)
from .lifecycle import (
    PROPORTIONAL_RESULTS,
    RESULT_FIELDS,
    RESULTS_ALSO_SET,
    SPLITTABLE,
    TRANSITIONS,
    _lock,
    _product_create,
    _transition,
)


@transaction.atomic
def product_record_results(
    *,
    actor: User,
    product: CellProduct,
    processing_ended_at: datetime | Keep | None = KEEP,
    total_nucleated_cells: int | Keep | None = KEEP,
    viable_fraction: Decimal | Keep | None = KEEP,
    viable_cells: int | Keep | None = KEEP,
    volume_ml: Decimal | Keep | None = KEEP,
    qc_sterility: str | Keep = KEEP,
    qc_endotoxin: str | Keep = KEEP,
    qc_mycoplasma: str | Keep = KEEP,
    expires_at: datetime | Keep = KEEP,
) -> CellProduct:
    """Counts, viability, volume, QC and expiry from the lab; only before release.

    One typed parameter per ``lifecycle.RESULT_FIELDS`` (services name every field they take;
    a test checks the two agree). A result not given keeps its recorded value (results often
    arrive one at a time).
    """
    arguments = dict(locals())  # first statement: exactly the parameters above
    require(actor, Perm.PRODUCT_PROCESS)
    product = _lock(product)
    require_site_access(user=actor, site_id=product.patient.site_id)
    if product.status not in (S.IN_PROCESSING, S.QUARANTINE):
        raise _gate("Results can only change before release.", Code.WRONG_STATUS)
    for name in (*RESULT_FIELDS, *RESULTS_ALSO_SET):
        value = arguments[name]
        if value is not KEEP:
            setattr(product, name, value)
    if (
        product.viable_cells is None
        and product.total_nucleated_cells
        and product.viable_fraction is not None
    ):
        product.viable_cells = int(product.total_nucleated_cells * product.viable_fraction)
    if (
        product.viable_cells is not None
        and product.total_nucleated_cells is not None
        and product.viable_cells > product.total_nucleated_cells
    ):
        raise _gate(
            "Viable cells cannot exceed total nucleated cells.",
            Code.VIABLE_EXCEEDS_TOTAL,
            "viable_cells",
        )
    _check_processing_times(product)
    product.full_clean()
    product.save()
    events.product_results_recorded(actor=actor, product=product)
    if product.status == S.IN_PROCESSING and product.processing_ended_at:
        _transition(actor=actor, product=product, to=S.QUARANTINE, reason="Processing finished")
    return product


@transaction.atomic
def product_split(
    *, actor: User, product: CellProduct, volumes_ml: list[Decimal]
) -> list[CellProduct]:
    """Draw aliquots from a product in quarantine (e.g. doses for later sessions, to cryo).

    Each aliquot is a product of its own with the next product number, ``parent`` pointing at
    the source, the same donation, patient and quality results, and cells in proportion to its
    volume. The source keeps the remainder; drawn to nothing, it is closed as discarded.
    """
    require(actor, Perm.PRODUCT_PROCESS)
    product = _lock(product)
    require_site_access(user=actor, site_id=product.patient.site_id)
    if product.status not in SPLITTABLE:
        raise _gate(
            "Aliquots are drawn after processing, before release (quarantine).",
            Code.WRONG_STATUS,
        )
    if not product.volume_ml or product.viable_cells is None:
        raise _gate(
            "Record the volume and cell counts before drawing aliquots.", Code.RESULTS_INCOMPLETE
        )
    volumes = [Decimal(v) for v in volumes_ml]
    if not volumes or any(v <= 0 for v in volumes):
        raise _gate("Give one or more positive volumes.", Code.INVALID_VOLUMES, "volumes_ml")
    if len(volumes) > MAX_ALIQUOTS:
        raise _gate(
            f"Draw at most {MAX_ALIQUOTS} aliquots at a time.", Code.TOO_MANY_ALIQUOTS, "volumes_ml"
        )
    if sum(volumes) > product.volume_ml:
        raise _gate(
            f"The aliquots need {sum(volumes)} mL; the product holds {product.volume_ml} mL.",
            Code.OVER_VOLUME,
            "volumes_ml",
        )
    aliquots = []
    for volume in volumes:
        share = float(volume / product.volume_ml)
        child = _product_create(
            actor=actor,
            harvest=product.harvest,
            started_at=product.processing_started_at,
            parent=product,
        )
        for name in (*RESULT_FIELDS, *RESULTS_ALSO_SET):
            if name not in PROPORTIONAL_RESULTS:
                setattr(child, name, getattr(product, name))
        child.total_nucleated_cells = int((product.total_nucleated_cells or 0) * share)
        child.viable_cells = int(product.viable_cells * share)
        child.volume_ml = volume
        child.save()
        _transition(
            actor=actor, product=child, to=S.QUARANTINE, reason=f"Aliquot of {product.product_code}"
        )
        aliquots.append(child)
    remaining = product.volume_ml - sum(volumes)
    drawn = sum(a.viable_cells or 0 for a in aliquots)
    product.viable_cells -= drawn
    product.total_nucleated_cells = max(
        0,
        (product.total_nucleated_cells or 0) - sum(a.total_nucleated_cells or 0 for a in aliquots),
    )
    product.volume_ml = remaining if remaining > 0 else product.volume_ml
    product.save()
    events.product_aliquots_drawn(actor=actor, product=product, aliquots=aliquots)
    if remaining <= 0:
        _transition(
            actor=actor, product=product, to=S.DISCARDED, reason="Fully divided into aliquots"
        )
    return aliquots


def _check_processing_times(product: CellProduct) -> None:
    """Processing starts at or after the harvest and ends after it starts, before expiry."""
    if product.processing_started_at < product.harvest.performed_at:
        raise _gate(
            "Processing cannot start before the harvest.",
            Code.TIME_ORDER,
            "processing_ended_at",
        )
    ended = product.processing_ended_at
    if ended is None:
        return
    if ended < product.processing_started_at:
        raise _gate(
            "Processing cannot end before it started.", Code.TIME_ORDER, "processing_ended_at"
        )
    if ended > clock.now() + CLOCK_SKEW:
        raise _gate("Processing cannot end in the future.", Code.TIME_ORDER, "processing_ended_at")
    if ended > product.expires_at:
        raise _gate(
            "Processing ended after the product's expiry: the product cannot be used.",
            Code.EXPIRED,
            "processing_ended_at",
        )


@counts_password_failures
@transaction.atomic
def product_release(*, actor: User, product: CellProduct, password: str) -> CellProduct:
    require(actor, Perm.PRODUCT_RELEASE)
    product = _lock(product)
    require_site_access(user=actor, site_id=product.patient.site_id)
    if product.status != S.QUARANTINE:
        raise _gate("Only a product in quarantine can be released.", Code.WRONG_STATUS)
    refusal = four_eyes_refusal(actor=actor, product=product)
    if refusal:  # guard: four-eyes
        raise _gate(refusal, Code.FOUR_EYES)
    failed = [f"{name} ({detail})" for name, ok, detail in release_gates(product) if not ok]
    if failed:
        raise _gate("Release refused: " + "; ".join(failed) + ".", Code.RELEASE_GATES_FAILED)
    _transition(actor=actor, product=product, to=S.RELEASED, reason="Released: all gates passed")
    signature_sign(
        actor=actor, record=product, meaning=Signature.Meaning.RELEASE, password=password
    )
    return product


@transaction.atomic
def product_store(
    *,
    actor: User,
    product: CellProduct,
    freezer: str,
    rack: str,
    box: str,
    position: str,
    expires_at: datetime,
) -> CellProduct:
    """Cryopreserve a released product at a freezer position (the release signature carries over).

    The location is normalised by ``storage.normalise`` (the position on the box's grid, stored
    as its number). A position holds one product: freezers belong to a site, so another stored
    product of the same site at the same freezer, rack, box and position refuses the store.
    """
    require(actor, Perm.PRODUCT_STORE)
    product = _lock(product)
    site_id = product.patient.site_id
    require_site_access(user=actor, site_id=site_id)
    if not all(x.strip() for x in (freezer, rack, box, position)):
        raise _gate("Give freezer, rack, box and position.", Code.LOCATION_REQUIRED)
    location = storage.normalise(freezer=freezer, rack=rack, box=box, position=position)
    if location is None:
        raise _gate(
            f"A position is a number from 1 to {storage.POSITIONS} or a cell from A1 to "
            f"{storage.cell_label(storage.POSITIONS)} of the box's "
            f"{storage.BOX_ROWS} × {storage.BOX_COLUMNS} grid.",
            Code.INVALID_POSITION,
            "position",
        )
    if expires_at <= clock.now():  # guard: expiry-store
        raise _gate("The storage expiry must be in the future.", Code.EXPIRED, "expires_at")
    if product.expires_at <= clock.now():
        # Freezing does not bring an expired product back: it stays expired.
        raise _gate("The product has expired: it cannot be cryopreserved.", Code.EXPIRED)
    # Stores at one site wait for each other here, so two cannot take the same position at once.
    Site.objects.select_for_update().filter(pk=site_id).first()
    occupant = (
        CellProduct.objects.filter(
            patient__site_id=site_id,
            freezer=location.freezer,
            rack=location.rack,
            box=location.box,
            position=location.position,
            status=S.STORED,
        )
        .exclude(pk=product.pk)
        .first()
    )
    if occupant is not None:
        raise _gate(
            f"Position {storage.cell_label(int(location.position))} of that box is occupied "
            f"by {occupant.product_code}.",
            Code.POSITION_OCCUPIED,
            "position",
        )
    _transition(actor=actor, product=product, to=S.STORED, reason="Cryopreserved")
    product.storage = CellProduct.Storage.CRYO
    product.freezer, product.rack, product.box = location.freezer, location.rack, location.box
    product.position = location.position
    product.expires_at = expires_at
    product.save()
    events.product_located(actor=actor, product=product, reason="Placed in storage")
    return product


@transaction.atomic
def product_thaw(*, actor: User, product: CellProduct, use_within_hours: int = 4) -> CellProduct:
    require(actor, Perm.PRODUCT_STORE)
    product = _lock(product)
    require_site_access(user=actor, site_id=product.patient.site_id)
    if not 1 <= use_within_hours <= MAX_THAW_WINDOW_HOURS:
        raise _gate(
            f"Give 1 to {MAX_THAW_WINDOW_HOURS} hours to use the thawed cells.",
            Code.THAW_WINDOW,
            "use_within_hours",
        )
    if product.expires_at <= clock.now():  # guard: expiry-thaw
        raise _gate("The product has expired: it cannot be thawed for use.", Code.EXPIRED)
    _transition(actor=actor, product=product, to=S.THAWED, reason="Thawed for administration")
    product.expires_at = min(product.expires_at, clock.now() + timedelta(hours=use_within_hours))
    product.save()
    return product


@transaction.atomic
def product_discard(*, actor: User, product: CellProduct, reason: str) -> CellProduct:
    require(actor, Perm.PRODUCT_DISCARD)
    product = _lock(product)
    require_site_access(user=actor, site_id=product.patient.site_id)
    if not reason.strip():
        raise _gate("Record why the product is discarded.", Code.REASON_REQUIRED, "reason")
    _transition(actor=actor, product=product, to=S.DISCARDED, reason=reason.strip())
    return product


def products_expire_due(*, actor: User, now: datetime | None = None) -> int:
    """Mark every product of the lab technician's sites past its expiry as expired."""
    require(actor, Perm.PRODUCT_EXPIRE_SWEEP)
    return _expire_due(actor=actor, sites=sites_for(user=actor), now=now)


def products_expire_due_scheduled(*, now: datetime | None = None) -> int:
    """The scheduled sweep (``tasks.expire_products``, Celery beat): every site's products past
    their expiry become expired, recorded in custody as the system actor."""
    return _expire_due(actor=system_actor(), sites=None, now=now)


def _expire_due(*, actor: User, sites: QuerySet[Site] | None, now: datetime | None) -> int:
    due = CellProduct.objects.filter(
        expires_at__lte=now or clock.now(),
        status__in=[s for s, nxt in TRANSITIONS.items() if S.EXPIRED in nxt],
    )
    if sites is not None:
        due = due.filter(patient__site__in=sites)
    count = 0
    for product in due:
        with transaction.atomic():
            _transition(actor=actor, product=_lock(product), to=S.EXPIRED, reason="Past expiry")
        count += 1
    return count


def product_label_printed(*, actor: User, product: CellProduct) -> None:
    require(actor, Perm.PRODUCT_PROCESS)
    require_site_access(user=actor, site_id=product.patient.site_id)
    events.product_label_printed(actor=actor, product=product)


@transaction.atomic
def product_handover(
    *, actor: User, product: CellProduct, to_user: User, location: str, reason: str = ""
) -> None:
    require(actor, Perm.PRODUCT_PROCESS)
    require_site_access(user=actor, site_id=product.patient.site_id)
    events.product_handed_over(
        actor=actor, product=product, to_user=to_user, location=location, reason=reason
    )
