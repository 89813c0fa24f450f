"""Property-based proof of the chain of identity (hypothesis, stateful).

Random sequences of harvests, lab results, releases, storage, thawing, discards, the passing of
time and administrations — including wrong patients, wrong MRNs, wrong check characters, replayed
submissions and self-verification — are thrown at the services. After every step:

* no product is administered to anyone but its source patient;
* no product is administered unless it was released (or thawed after release) and unexpired;
* no product is administered twice;
* every status change left a custody event and a history row, in the same order.
"""

from __future__ import annotations

import contextlib
import os
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from anagen.clinic.accounts.roles import Role
from anagen.clinic.patients.services import patient_create
from anagen.clinic.treatment import services
from anagen.clinic.treatment.models import CellProduct, CustodyEvent, TreatmentSession

from .conftest import PASSWORD
from .treatment_helpers import administer, consented_plan, harvest, second_lab_technician

EXAMPLES = int(os.environ.get("ANAGEN_STATEFUL_EXAMPLES", "1500"))
REFUSALS = (ValidationError, PermissionDenied)
S = CellProduct.Status


def _wrong_check(code: str) -> str:
    head, _, suffix = code.partition("-")
    swapped = "0" if head[-1] != "0" else "1"
    return f"{head[:-1]}{swapped}-{suffix}"


class ChainOfIdentity(RuleBasedStateMachine):
    world: dict = {}
    administered = 0  # successful administrations over all examples

    def __init__(self):
        super().__init__()
        self.savepoint = transaction.savepoint()
        self.tokens: list[str] = []

    def teardown(self):
        transaction.savepoint_rollback(self.savepoint)

    # -- operations -------------------------------------------------------------------------

    @initialize()
    def one_harvest_per_patient(self):
        for plan in self.world["plans"]:
            harvest(self.world["physician"], plan)

    @rule(p=st.integers(0, 2))
    def harvest(self, p):
        harvest(self.world["physician"], self.world["plans"][p])

    def _product(self, i):
        products = list(CellProduct.objects.order_by("pk"))
        return products[i % len(products)] if products else None

    @rule(
        i=st.integers(0, 50),
        viability=st.sampled_from(["0.55", "0.72", "0.9"]),
        cells=st.sampled_from([1_000_000, 6_000_000, 9_000_000]),
        sterile=st.sampled_from(["pass", "fail", "pending"]),
    )
    def record_results(self, i, viability, cells, sterile):
        product = self._product(i)
        if product is None:
            return
        with contextlib.suppress(REFUSALS):
            services.product_record_results(
                actor=self.world["lab"],
                product=product,
                processing_ended_at=timezone.now(),
                total_nucleated_cells=cells * 2,
                viable_fraction=Decimal(viability),
                viable_cells=cells,
                volume_ml=Decimal("4"),
                qc_sterility=sterile,
                qc_endotoxin="pass",
            )

    @rule(i=st.integers(0, 50))
    def process_well_and_release(self, i):
        """The common day: good results, then release (refused unless in the right state)."""
        self.record_results(i, "0.85", 9_000_000, "pending")
        self.release(i)

    @rule(i=st.integers(0, 50))
    def the_correct_path(self, i):
        """Good results, release, then administration to the product's own patient."""
        self.process_well_and_release(i)
        self.administer(i, "own", "plan", "right", "nurse", replay=False)

    @rule(i=st.integers(0, 50), parts=st.integers(1, 3))
    def draw_aliquots(self, i, parts):
        product = self._product(i)
        if product is not None:
            with contextlib.suppress(REFUSALS):
                services.product_split(
                    actor=self.world["lab"], product=product, volumes_ml=[Decimal("1")] * parts
                )

    @rule(i=st.integers(0, 50))
    def release(self, i):
        product = self._product(i)
        if product is not None:
            with contextlib.suppress(REFUSALS):
                services.product_release(
                    actor=self.world["releaser"], product=product, password=PASSWORD
                )

    @rule(i=st.integers(0, 50), slot=st.integers(1, 4))
    def store(self, i, slot):
        product = self._product(i)
        if product is not None:
            with contextlib.suppress(REFUSALS):
                services.product_store(
                    actor=self.world["lab"],
                    product=product,
                    freezer="LN2",
                    rack="A",
                    box="1",
                    position=str(slot),
                    expires_at=timezone.now() + timedelta(days=300),
                )

    @rule(i=st.integers(0, 50))
    def thaw(self, i):
        product = self._product(i)
        if product is not None:
            with contextlib.suppress(REFUSALS):
                services.product_thaw(actor=self.world["lab"], product=product)

    @rule(i=st.integers(0, 50))
    def discard(self, i):
        product = self._product(i)
        if product is not None:
            with contextlib.suppress(REFUSALS):
                services.product_discard(
                    actor=self.world["lab"], product=product, reason="Test discard"
                )

    @rule(i=st.integers(0, 50))
    def time_passes(self, i):
        """The product's expiry passes; the sweep marks what is due as expired."""
        product = self._product(i)
        if product is not None and product.status not in (S.ADMINISTERED, S.DISCARDED, S.EXPIRED):
            CellProduct.objects.filter(pk=product.pk).update(
                expires_at=timezone.now() - timedelta(seconds=1)
            )
            if i % 2:
                services.products_expire_due(actor=self.world["lab"])

    @rule(
        i=st.integers(0, 50),
        p=st.sampled_from(["own", "own", 0, 1, 2]),
        mrn_of=st.sampled_from(["plan", "plan", "plan", "product", "other"]),
        code=st.sampled_from(["right", "right", "right", "wrong_check", "garbage"]),
        verifier=st.sampled_from(["nurse", "nurse", "nurse", "self", "lab"]),
        replay=st.sampled_from([False, False, False, True]),
    )
    def administer(self, i, p, mrn_of, code, verifier, replay):
        product = self._product(i)
        if product is None:
            return
        plan = product.harvest.plan if p == "own" else self.world["plans"][p]
        mrn = {"plan": plan.patient.mrn, "product": product.patient.mrn, "other": "AN9999999"}[
            mrn_of
        ]
        scanned = {
            "right": product.product_code,
            "wrong_check": _wrong_check(product.product_code),
            "garbage": "NOT-A-CODE",
        }[code]
        who = {
            "nurse": self.world["nurse"],
            "self": self.world["physician"],
            "lab": self.world["lab"],
        }[verifier]
        token = self.tokens[-1] if replay and self.tokens else f"tok-{len(self.tokens)}"
        try:
            administer(
                self.world["physician"],
                who,
                plan,
                product,
                scanned_product_code=scanned,
                scanned_mrn=mrn,
                submission_token=token,
            )
        except REFUSALS as exc:
            if os.environ.get("DEBUG_SM"):
                print("refused:", exc)
            return
        self.tokens.append(token)
        ChainOfIdentity.administered += 1

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def administered_only_to_source_released_unexpired_once(self):
        for session in TreatmentSession.objects.select_related("product__harvest", "patient"):
            product = session.product
            assert product.patient_id == session.patient_id == product.harvest.patient_id
            assert session.scanned_mrn == session.patient.mrn
            assert product.status == S.ADMINISTERED
            events = list(product.custody.filter(kind="status").order_by("at", "pk"))
            administered = [e for e in events if e.to_status == S.ADMINISTERED]
            assert len(administered) == 1, "administered twice"
            assert administered[0].from_status in (S.RELEASED, S.THAWED), "never unreleased"
            assert product.expires_at > administered[0].at, "never expired"
        assert not CellProduct.objects.filter(status=S.ADMINISTERED, session__isnull=True).exists()

    @invariant()
    def every_status_change_has_custody_and_history(self):
        for product in CellProduct.objects.all():
            custody = [S.IN_PROCESSING] + [
                e.to_status
                for e in CustodyEvent.objects.filter(product=product, kind="status").order_by(
                    "at", "pk"
                )
            ]
            history = []
            for row in product.history.order_by("history_date", "history_id"):
                if not history or history[-1] != row.status:
                    history.append(row.status)
            assert history == custody, (product.product_code, history, custody)
            assert product.status == custody[-1]


@pytest.mark.django_db
def test_chain_of_identity_holds_for_random_operation_sequences(staff, site, coordinator):
    from datetime import date

    physician, nurse, lab = staff[Role.PHYSICIAN], staff[Role.NURSE], staff[Role.LAB_TECHNICIAN]
    plans = []
    for n, (given, family) in enumerate([("Ada", "Quill"), ("Bo", "Rook"), ("Cy", "Wren")]):
        patient = patient_create(
            actor=coordinator,
            site=site,
            given_name=given,
            family_name=family,
            date_of_birth=date(1980 + n, 1, 1),
            sex="male",
        )
        plans.append(consented_plan(physician, nurse, patient))
    ChainOfIdentity.world = {
        "physician": physician,
        "nurse": nurse,
        "lab": lab,
        "releaser": second_lab_technician(lab),
        "plans": plans,
    }
    run_state_machine_as_test(
        ChainOfIdentity,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=15,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    # The machine really exercised the happy path too, not only refusals.
    assert ChainOfIdentity.administered >= EXAMPLES // 10, ChainOfIdentity.administered
