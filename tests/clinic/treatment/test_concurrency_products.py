"""Two members of staff act on the same cell product at the same instant: exactly one wins.

Real threads, each with its own database connection, released together by a barrier; the
winner holds the product's row lock a moment longer (a pause after the lock), so the other is
truly waiting on it, not merely running after. The loser gets the refusal a second click would
get, with its error code: ``WRONG_STATUS`` for a second release, ``ALREADY_ADMINISTERED`` for a
second administration. Runs on SQLite in the default suite and on PostgreSQL in
``make test-postgres`` (row locks: ``SELECT … FOR UPDATE``). The page-level races (conversion,
registration) are in ``tests/clinic/common/test_concurrency.py``.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from anagen.clinic.accounts.roles import Role
from anagen.clinic.audit.models import Signature
from anagen.clinic.treatment import services
from anagen.clinic.treatment.error_codes import TreatmentErrorCode as Code
from anagen.clinic.treatment.models import CellProduct, CustodyEvent, TreatmentSession
from anagen.clinic.treatment.services import products as products_module
from anagen.clinic.treatment.services import sessions as sessions_module
from tests.clinic.conftest import make_user
from tests.clinic.factories import PASSWORD
from tests.clinic.refusals import codes
from tests.clinic.treatment_helpers import (
    administer,
    consented_plan,
    harvest,
    make_candidate,
    released_product,
)

pytestmark = pytest.mark.django_db(transaction=True)

HOLD_SECONDS = 0.5


def together(calls) -> tuple[list, list[float], list[float]]:
    """Run each call in its own thread (own connection), all released at once by a barrier.

    Returns each call's result (or the exception it raised) and when each started and ended.
    """
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    started = [0.0] * len(calls)
    ended = [0.0] * len(calls)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            started[i] = time.monotonic()
            results[i] = calls[i]()
        except BaseException as error:  # judged by the assertions
            results[i] = error
        finally:
            ended[i] = time.monotonic()
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a call hung"
    return results, started, ended


def hold_after(module, name: str, monkeypatch) -> None:
    """Make ``module.name`` (called while the product's row is locked) pause first."""
    real = getattr(module, name)

    def slow(*args, **kwargs):
        time.sleep(HOLD_SECONDS)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, slow)


def one_winner(results, started, ended, loser_code: Code):
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert isinstance(losers[0], ValidationError), repr(losers[0])
    assert codes(losers[0]) == {loser_code}
    # They overlapped: both had started before the first one finished.
    assert max(started) < min(ended)
    return winners[0], losers[0]


def test_two_technicians_release_the_same_product_at_once(staff, patient, monkeypatch):
    physician, lab = staff[Role.PHYSICIAN], staff[Role.LAB_TECHNICIAN]
    make_candidate(physician, patient)
    plan = consented_plan(physician, staff[Role.NURSE], patient)
    product = harvest(physician, plan).products.get()
    services.product_record_results(
        actor=lab,
        product=product,
        processing_ended_at=timezone.now() - timedelta(minutes=30),
        total_nucleated_cells=9_500_000,
        viable_fraction="0.85",
        viable_cells=8_000_000,
        volume_ml="4",
        qc_sterility="pending",
        qc_endotoxin="pass",
    )
    site = patient.site
    releasers = [
        make_user(Role.LAB_TECHNICIAN, site, email=f"qa{i}-{uuid.uuid4().hex[:6]}@example.test")
        for i in range(2)
    ]
    hold_after(products_module, "signature_sign", monkeypatch)
    results, started, ended = together(
        [
            lambda user=user: services.product_release(
                actor=user, product=CellProduct.objects.get(pk=product.pk), password=PASSWORD
            )
            for user in releasers
        ]
    )
    _winner, loser = one_winner(results, started, ended, Code.WRONG_STATUS)
    product.refresh_from_db()
    assert product.status == CellProduct.Status.RELEASED
    released = product.custody.filter(
        kind=CustodyEvent.Kind.STATUS, to_status=CellProduct.Status.RELEASED
    )
    assert released.count() == 1
    assert (
        Signature.objects.filter(object_id=product.pk, meaning=Signature.Meaning.RELEASE).count()
        == 1
    )
    assert "Only a product in quarantine can be released." in str(loser)


def test_two_physicians_administer_the_same_product_at_once(staff, patient, monkeypatch):
    physician, nurse = staff[Role.PHYSICIAN], staff[Role.NURSE]
    make_candidate(physician, patient)
    plan = consented_plan(physician, nurse, patient)
    product = released_product(physician, staff[Role.LAB_TECHNICIAN], plan)
    site = patient.site
    teams = [
        (
            make_user(Role.PHYSICIAN, site, email=f"doc{i}-{uuid.uuid4().hex[:6]}@example.test"),
            make_user(Role.NURSE, site, email=f"nurse{i}-{uuid.uuid4().hex[:6]}@example.test"),
        )
        for i in range(2)
    ]
    hold_after(sessions_module, "require_valid_consent", monkeypatch)
    results, started, ended = together(
        [lambda doc=doc, nurse=nurse: administer(doc, nurse, plan, product) for doc, nurse in teams]
    )
    winner, loser = one_winner(results, started, ended, Code.ALREADY_ADMINISTERED)
    assert isinstance(winner, TreatmentSession)
    product.refresh_from_db()
    assert product.status == CellProduct.Status.ADMINISTERED
    assert TreatmentSession.objects.filter(product=product).count() == 1
    assert "already been administered" in str(loser)
