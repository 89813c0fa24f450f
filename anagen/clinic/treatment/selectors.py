"""Reads of the treatment pathway: what the pages show and what the services' gates ask.

Nothing here writes. Services call selectors (the consent in force, who recorded a product's
results, the release criteria); selectors never call services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Case, CharField, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from anagen.clinic.accounts.access import sites_for
from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import Perm, roles_with
from anagen.clinic.assessment.selectors import current_decision
from anagen.clinic.common import clock
from anagen.clinic.intake.models import Appointment
from anagen.clinic.patients.models import Patient
from anagen.identity import parse_product_id

from . import storage
from .models import (
    MAX_CELLS_PER_POINT_WARNING,
    AdverseEvent,
    CellProduct,
    Consent,
    ConsentText,
    CustodyEvent,
    ScheduledVisit,
    TreatmentPlan,
    TreatmentSession,
)


def plan_get(*, user: User, pk: int) -> TreatmentPlan:
    return get_object_or_404(
        TreatmentPlan.objects.filter(patient__site__in=sites_for(user=user)).select_related(
            "patient", "protocol"
        ),
        pk=pk,
    )


def product_get(*, user: User, pk: int) -> CellProduct:
    return get_object_or_404(
        CellProduct.objects.filter(patient__site__in=sites_for(user=user)).select_related(
            "patient", "harvest__plan__protocol"
        ),
        pk=pk,
    )


def lab_bench(*, user: User) -> QuerySet[CellProduct]:
    """Products the lab is working on or holding, oldest first."""
    return (
        CellProduct.objects.filter(patient__site__in=sites_for(user=user))
        .filter(status__in=["in_processing", "quarantine", "released", "stored", "thawed"])
        .select_related("patient", "harvest")
        .order_by("expires_at")
    )


# --- the lab's home, the cryo inventory and the printable worklist ----------------------------

S = CellProduct.Status
#: Statuses the lab works on or holds, in the order the lab's home lists them.
LAB_STATUSES = (S.IN_PROCESSING, S.QUARANTINE, S.RELEASED, S.THAWED, S.STORED)
#: A product expiring within this time is highlighted.
EXPIRY_WARNING = timedelta(hours=24)
#: Appointments for which the lab thaws a stored product.
SESSION_KINDS = (Appointment.Kind.HARVEST_SESSION, Appointment.Kind.REPEAT_SESSION)


@dataclass(frozen=True)
class LabLine:
    """A product as the lab lists it, with its expiry read against "now"."""

    product: CellProduct
    expired: bool
    expires_soon: bool  # within EXPIRY_WARNING, not yet past

    @property
    def display_id(self) -> str:
        return display_id(self.product)

    @property
    def expiry_warning(self) -> str:
        """The lab's words for the expiry ("" when neither past nor near)."""
        if self.expired:
            return "Past expiry"
        return "Within 24 h" if self.expires_soon else ""


@dataclass(frozen=True)
class StatusGroup:
    status: str
    label: str
    lines: list[LabLine]


@dataclass(frozen=True)
class ReleaseLine:
    """A product awaiting release: who recorded its results and whether ``user`` may release."""

    line: LabLine
    recorded_by: list[User]
    four_eyes_refusal: str | None
    gates_failed: list[str]


@dataclass(frozen=True)
class ThawLine:
    """A stored product whose patient has a session today (``appointment``)."""

    line: LabLine
    appointment: Appointment


@dataclass(frozen=True)
class LabWork:
    by_status: list[StatusGroup]
    #: In processing, or in quarantine with a result still missing (a QC test pending).
    results_to_enter: list[LabLine]
    #: In quarantine (processing finished, results recorded): a second person releases.
    awaiting_release: list[ReleaseLine]
    #: Thawed products, soonest use-by first (their expiry is the use-by time).
    thawed: list[LabLine]
    #: Stored products of patients with a session today (the worklist's thaws).
    thaws_today: list[ThawLine]

    @property
    def to_process(self) -> list[LabLine]:
        return [x for x in self.results_to_enter if x.product.status == S.IN_PROCESSING]

    @property
    def results_pending(self) -> list[LabLine]:
        return [x for x in self.results_to_enter if x.product.status != S.IN_PROCESSING]


def display_id(product: CellProduct) -> str:
    """The product identifier as printed on its label (the stored code if it does not parse)."""
    try:
        return parse_product_id(product.product_code).display
    except ValueError:
        return product.product_code


def _line(product: CellProduct, now: datetime) -> LabLine:
    expired = product.expires_at <= now
    return LabLine(
        product=product,
        expired=expired,
        expires_soon=not expired and product.expires_at - now <= EXPIRY_WARNING,
    )


def lab_work(*, user: User, now: datetime | None = None) -> LabWork:
    """What the lab has to do at ``user``'s sites, each list soonest expiry first."""
    now = now or clock.now()
    products = list(
        CellProduct.objects.filter(patient__site__in=sites_for(user=user), status__in=LAB_STATUSES)
        .select_related("patient", "harvest__plan__protocol")
        .order_by("expires_at", "pk")
    )
    lines = [_line(p, now) for p in products]
    by_status = [
        StatusGroup(status, S(status).label, [x for x in lines if x.product.status == status])
        for status in LAB_STATUSES
    ]
    results_to_enter = [
        x
        for x in lines
        if x.product.status == S.IN_PROCESSING
        or (x.product.status == S.QUARANTINE and x.product.missing_results)
    ]
    # Release does not wait for a QC culture still pending (only a failed one refuses it), so
    # every product in quarantine awaits its release, a pending result or not.
    pending = [x for x in lines if x.product.status == S.QUARANTINE]
    recorders = {x.product.pk: results_recorded_by(x.product) for x in pending}
    people = User.objects.in_bulk(set().union(*recorders.values()) if recorders else set())
    awaiting_release = [
        ReleaseLine(
            line=x,
            recorded_by=sorted(
                (people[pk] for pk in recorders[x.product.pk] if pk in people),
                key=lambda u: u.display_name,
            ),
            four_eyes_refusal=four_eyes_refusal(actor=user, product=x.product),
            gates_failed=[name for name, ok, _ in release_gates(x.product, now=now) if not ok],
        )
        for x in pending
    ]
    return LabWork(
        by_status=by_status,
        results_to_enter=results_to_enter,
        awaiting_release=awaiting_release,
        thawed=[x for x in lines if x.product.status == S.THAWED],
        thaws_today=_thaws_today(user=user, lines=lines, day=timezone.localdate(now)),
    )


def _thaws_today(*, user: User, lines: list[LabLine], day: date) -> list[ThawLine]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    sessions = (
        Appointment.objects.filter(
            site__in=sites_for(user=user),
            kind__in=SESSION_KINDS,
            status__in=(Appointment.Status.BOOKED, Appointment.Status.ARRIVED),
            starts_at__gte=start,
            starts_at__lt=start + timedelta(days=1),
        )
        .select_related("patient")
        .order_by("starts_at")
    )
    first_session: dict[int, Appointment] = {}
    for appointment in sessions:
        first_session.setdefault(appointment.patient_id, appointment)
    thaws = [
        ThawLine(line=x, appointment=first_session[x.product.patient_id])
        for x in lines
        if x.product.status == S.STORED and x.product.patient_id in first_session
    ]
    return sorted(thaws, key=lambda t: (t.appointment.starts_at, t.line.product.expires_at))


@dataclass(frozen=True)
class Cell:
    """One position of a box's grid: its number, its label ("C4") and what it holds."""

    number: int
    label: str
    product: CellProduct | None = None
    match: bool = False  # the product matches the search


@dataclass(frozen=True)
class Box:
    name: str
    rows: list[tuple[str, list[Cell]]]  # (row letter, its cells)
    #: Stored products whose recorded position is not on the grid (recorded before positions
    #: were checked): listed beside the grid, never hidden.
    off_grid: list[CellProduct]
    occupied: int
    match: bool  # holds a product matching the search


@dataclass(frozen=True)
class Rack:
    name: str
    boxes: list[Box]


@dataclass(frozen=True)
class Freezer:
    site_name: str
    name: str
    racks: list[Rack]


@dataclass(frozen=True)
class Inventory:
    freezers: list[Freezer]
    query: str
    matches: list[CellProduct]
    columns: list[int]
    positions: int


def cryo_inventory(*, user: User, query: str = "") -> Inventory:
    """Every stored product of ``user``'s sites by site, freezer, rack and box, each box as its
    grid of positions. With a ``query`` (part of a product code, with or without the label's
    separators), only the boxes holding a match are shown, the matching cells marked."""
    stored = list(
        CellProduct.objects.filter(
            patient__site__in=sites_for(user=user), status=S.STORED
        ).select_related("patient__site")
    )
    needle = "".join(ch for ch in query.upper() if ch.isalnum())
    matches = {p.pk for p in stored if needle and needle in _compact(p.product_code)}
    tree: dict[tuple[str, str], dict[str, dict[str, list[CellProduct]]]] = {}
    for product in stored:
        freezer = (product.patient.site.name, product.freezer or "(no freezer recorded)")
        tree.setdefault(freezer, {}).setdefault(product.rack, {}).setdefault(
            product.box, []
        ).append(product)
    freezers = []
    for (site_name, freezer_name), racks in sorted(
        tree.items(), key=lambda kv: (kv[0][0], storage.natural_key(kv[0][1]))
    ):
        rack_list = []
        for rack_name in sorted(racks, key=storage.natural_key):
            boxes = [
                _box(box_name, racks[rack_name][box_name], matches)
                for box_name in sorted(racks[rack_name], key=storage.natural_key)
            ]
            if needle:
                boxes = [b for b in boxes if b.match]
            if boxes:
                rack_list.append(Rack(rack_name, boxes))
        if rack_list:
            freezers.append(Freezer(site_name, freezer_name, rack_list))
    return Inventory(
        freezers=freezers,
        query=query,
        matches=sorted((p for p in stored if p.pk in matches), key=lambda p: p.product_code),
        columns=list(range(1, storage.BOX_COLUMNS + 1)),
        positions=storage.POSITIONS,
    )


def _compact(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _box(name: str, products: list[CellProduct], matches: set[int]) -> Box:
    at: dict[int, CellProduct] = {}
    off_grid = []
    for product in sorted(products, key=lambda p: p.product_code):
        number = storage.position_number(product.position)
        if number is None or number in at:
            off_grid.append(product)
        else:
            at[number] = product
    rows = []
    for row in range(storage.BOX_ROWS):
        cells = []
        for column in range(storage.BOX_COLUMNS):
            number = row * storage.BOX_COLUMNS + column + 1
            held = at.get(number)
            cells.append(
                Cell(
                    number=number,
                    label=storage.cell_label(number),
                    product=held,
                    match=held is not None and held.pk in matches,
                )
            )
        rows.append((storage.ROW_LETTERS[row], cells))
    return Box(
        name=name,
        rows=rows,
        off_grid=off_grid,
        occupied=len(products),
        match=any(p.pk in matches for p in products),
    )


@dataclass(frozen=True)
class FollowUpFilter:
    """What the follow-up list shows; every field narrows it, None or "" means any."""

    state: str = ""  # "overdue", "due", "upcoming" or "booked"
    site_id: int | None = None
    physician_id: int | None = None  # the plan's physician
    due_within_days: int | None = None


#: A scheduled visit's state on a given day, in the order the list sorts them.
FOLLOW_UP_STATES = {
    "overdue": "Overdue: the window closed without a visit",
    "due": "Due now: the window is open",
    "upcoming": "Upcoming",
    "booked": "Booked",
}


def follow_up_list(
    *, user: User, today: date, filters: FollowUpFilter = FollowUpFilter()
) -> QuerySet[ScheduledVisit]:
    """Open follow-ups and repeat sessions at the user's sites, each annotated with its
    ``state`` (booked when a live appointment is tied to it), soonest due first."""
    live = Q(appointment__isnull=False, appointment__status__in=Appointment.ACTIVE)
    visits = (
        ScheduledVisit.objects.filter(patient__site__in=sites_for(user=user), completed=False)
        .select_related("patient", "appointment__clinician", "plan__created_by")
        .annotate(
            state=Case(
                When(live, then=Value("booked")),
                When(window_end__lt=today, then=Value("overdue")),
                When(window_start__lte=today, then=Value("due")),
                default=Value("upcoming"),
                output_field=CharField(),
            )
        )
    )
    if filters.state:
        visits = visits.filter(state=filters.state)
    if filters.site_id:
        visits = visits.filter(patient__site_id=filters.site_id)
    if filters.physician_id:
        visits = visits.filter(plan__created_by_id=filters.physician_id)
    if filters.due_within_days is not None:
        visits = visits.filter(due_on__lte=today + timedelta(days=filters.due_within_days))
    return visits.order_by("due_on", "pk")


def scheduled_visit_get(*, user: User, pk: int) -> ScheduledVisit:
    return get_object_or_404(
        ScheduledVisit.objects.filter(patient__site__in=sites_for(user=user)).select_related(
            "patient__site", "plan__created_by", "appointment"
        ),
        pk=pk,
    )


def suggested_start(*, visit: ScheduledVisit, today: date) -> datetime:
    """Where a booking of ``visit`` starts by default: its due day, or tomorrow when the due day
    has passed, at 10:00 local time."""
    day = max(visit.due_on, today + timedelta(days=1))
    return timezone.make_aware(datetime.combine(day, time(10, 0)))


# --- reads for the staff pages (site-scoped; 404 for other sites) ------------------------------


def consent_get(*, user: User, pk: int) -> Consent:
    return get_object_or_404(
        Consent.objects.filter(plan__patient__site__in=sites_for(user=user)).select_related(
            "plan__patient", "consent_text", "witnessed_by"
        ),
        pk=pk,
    )


def session_get(*, user: User, pk: int) -> TreatmentSession:
    return get_object_or_404(
        TreatmentSession.objects.filter(patient__site__in=sites_for(user=user)).select_related(
            "plan__protocol", "patient__site", "product", "performed_by", "verified_by"
        ),
        pk=pk,
    )


def consent_text_current() -> ConsentText | None:
    """The consent wording a new signature uses: the newest active version."""
    return ConsentText.objects.filter(active=True).order_by("-created_at", "-pk").first()


def plans_for(*, patient: Patient) -> QuerySet[TreatmentPlan]:
    return TreatmentPlan.objects.filter(patient=patient).select_related("protocol")


def adverse_events_for(*, patient: Patient) -> QuerySet[AdverseEvent]:
    return AdverseEvent.objects.filter(patient=patient).select_related(
        "session", "harvest", "reported_by"
    )


def verifiers_for(*, user: User, site_id: int) -> QuerySet[User]:
    """Physicians and nurses of the site who may verify ``user``'s session (never ``user``)."""
    return (
        User.objects.filter(role__in=roles_with(Perm.SESSION_VERIFY), is_active=True)
        .filter(sites__in=sites_for(user=user).filter(pk=site_id))
        .exclude(pk=user.pk)
        .distinct()
        .order_by("role", "last_name", "first_name")
    )


# --- the gates, as the pages show them (the services enforce them) ------------------------------


def valid_consent_for(plan: TreatmentPlan) -> Consent | None:
    """The consent in force for ``plan``: its latest signature, unless withdrawn.

    A withdrawal ends the patient's consent to the plan whatever was signed before it; only a
    signature after the withdrawal restores it.
    """
    latest = plan.consents.order_by("-signed_at", "-pk").first()
    return latest if latest is not None and latest.withdrawn_at is None else None


def eligibility_refusal(patient: Patient) -> str | None:
    """Why the patient may not be treated now (None: their current decision is *candidate*).

    A physician's override with a written reason counts (``final_outcome``); the engine's own
    outcome stays on record beside it.
    """
    decision = current_decision(patient=patient)
    if decision is None:
        return "The patient has no eligibility decision yet: a physician must assess them first."
    if decision.final_outcome != "candidate":
        return (
            f"The current eligibility decision is \u201c{decision.final_outcome_label}\u201d: "
            "treatment needs \u201cCandidate\u201d, or a physician's override with a reason."
        )
    return None


NO_CONSENT_MESSAGE = (
    "No valid consent for this plan (never signed, or withdrawn): nothing can be done until "
    "the patient signs again."
)


def treatment_refusal(plan: TreatmentPlan) -> str | None:
    """Why nothing may be given under ``plan`` now (eligibility, then consent); None if it may."""
    if refusal := eligibility_refusal(plan.patient):
        return refusal
    return None if valid_consent_for(plan) else NO_CONSENT_MESSAGE


def results_recorded_by(product: CellProduct) -> set[int]:
    """Ids of the staff who recorded results for this product or the product it was drawn from."""
    ids: set[int] = set()
    current: CellProduct | None = product
    while current is not None:
        ids.update(
            current.custody.filter(kind=CustodyEvent.Kind.RESULTS).values_list(
                "actor_id", flat=True
            )
        )
        current = current.parent
    return ids


def four_eyes_refusal(*, actor: User, product: CellProduct) -> str | None:
    """Why ``actor`` may not release ``product`` under the four-eyes rule (None: they may)."""
    if settings.ANAGEN_RELEASE_FOUR_EYES and actor.pk in results_recorded_by(product):
        return (
            "A second lab technician must release: you recorded this product's results. Ask "
            "another lab technician to review and release it."
        )
    return None


def release_gates(
    product: CellProduct, *, now: datetime | None = None
) -> list[tuple[str, bool, str]]:
    """Every release criterion as (name, passed, detail); release needs all of them."""
    now = now or clock.now()
    plan = product.harvest.plan
    minimum = plan.protocol.min_viable_fraction
    qc = [product.qc_sterility, product.qc_endotoxin, product.qc_mycoplasma]
    return [
        ("processing finished", product.processing_ended_at is not None, "end time recorded"),
        (
            "processed before expiry",
            product.processing_ended_at is not None
            and product.processing_ended_at <= product.expires_at,
            "processing ended before the expiry time",
        ),
        ("volume recorded", bool(product.volume_ml), f"{product.volume_ml or 0} mL"),
        (
            "viability",
            product.viable_fraction is not None and product.viable_fraction >= minimum,
            f"{product.viable_fraction or 0:.1%} (needs ≥ {minimum:.0%})",
        ),
        (
            "dose",
            (product.viable_cells or 0) >= plan.planned_dose_cells,
            f"{product.viable_cells or 0:,} viable cells (plan needs {plan.planned_dose_cells:,})",
        ),
        (
            "within expiry",
            product.expires_at > now,
            f"expires {timezone.localtime(product.expires_at):%d %b %Y %H:%M}",
        ),
        ("QC not failed", CellProduct.QC.FAIL not in qc, "sterility, endotoxin, mycoplasma"),
        (
            "mycoplasma (cultured products)",
            product.method != "cultured_adsc" or product.qc_mycoplasma == CellProduct.QC.PASS,
            "must pass for culture-expanded products"
            if product.method == "cultured_adsc"
            else "not applicable to uncultured SVF",
        ),
    ]


def cells_per_point_warning(cells_per_point: int) -> str | None:
    if cells_per_point > MAX_CELLS_PER_POINT_WARNING:
        return f"{cells_per_point:,} cells per point is above the usual {MAX_CELLS_PER_POINT_WARNING:,}."
    return None


def dose_warning(*, plan: TreatmentPlan, total_cells: int) -> str | None:
    """A warning (not a refusal) when a session injects more cells than the plan's dose."""
    if total_cells > plan.planned_dose_cells:
        return (
            f"{total_cells:,} cells is above the planned dose of {plan.planned_dose_cells:,} "
            "cells per session."
        )
    return None
