"""Property-based proof of the clinical guardrails over the whole pathway (hypothesis, stateful).

Random sequences of assessments (candidate, not suitable, refer for transplant, or none at all),
physician overrides, plans, consents and their withdrawal and re-signing, harvests, lab results,
aliquots, releases by the recorder or a second technician, storage (also with a past expiry),
thawing, discards, the passing of time and administrations (right or wrong patient, MRN, check
character, verifier, verifier password, replayed submissions, maps below, at and above the
product's volume and cells) by staff of this site or another are thrown at the services.

A model of the pathway says, before every call, whether the service must refuse it and by which
rule; the call must then succeed, or be refused by exactly that rule (``expect``). After every
step the ``inv_*`` invariants check the database, one rule each. ``make guards`` removes each
guard from a copy of the services and checks that this test catches it (``tests/guards.py``).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import Perm, allows
from anagen.clinic.accounts.roles import Role
from anagen.clinic.assessment.error_codes import AssessmentErrorCode
from anagen.clinic.assessment.models import Assessment, EligibilityDecision
from anagen.clinic.assessment.services import assessment_record, decision_override
from anagen.clinic.audit.models import Signature
from anagen.clinic.audit.signatures import current_signature
from anagen.clinic.patients.services import patient_create
from anagen.clinic.treatment import selectors, services
from anagen.clinic.treatment.defaults import ensure_defaults
from anagen.clinic.treatment.error_codes import TreatmentErrorCode
from anagen.clinic.treatment.models import (
    CellProduct,
    Consent,
    CustodyEvent,
    Harvest,
    InjectionZone,
    TreatmentPlan,
    TreatmentSession,
)

from .conftest import PASSWORD, make_user
from .treatment_helpers import CHECKLIST, second_lab_technician

#: Examples of up to ``STEPS`` operations each; ``make test`` uses the default, PostgreSQL 200.
EXAMPLES = int(os.environ.get("ANAGEN_STATEFUL_EXAMPLES", "200"))
STEPS = 25
#: ``make guards`` sets this: a caught mutant needs no shrinking, only the failing assertion.
NO_SHRINK = os.environ.get("ANAGEN_STATEFUL_NO_SHRINK") == "1"
S = CellProduct.Status
G = TreatmentErrorCode
A = AssessmentErrorCode
GOOD_REASON = "Patient declines transplant; living follicles remain on trichoscopy."
#: One fault injected into the common day (``the_path_with_one_fault``), in three groups so that
#: each fault comes up often; "none" and "below" must succeed.
PRODUCT_FAULTS = ["below", "above", "over_cells", "expired", "expired_swept", "four_eyes"]
IDENTITY_FAULTS = ["mrn", "wrong_check", "other_patient", "replay", "other_site"]
PEOPLE_FAULTS = ["none", "self", "wrong_role", "bad_password", "withdrawn", "not_suitable"]
ASSESSMENTS = {
    "candidate": {"norwood": "III", "loss_duration_months": 12},
    "not_suitable": {"norwood": "III", "contraindications": ["pregnancy"]},
    "refer_for_transplant": {"norwood": "VI"},
}


class FastPdf:
    """Stands in for WeasyPrint in this test only (the consent PDF has its own tests)."""

    def __init__(self, string: str):
        self.html = string

    def write_pdf(self) -> bytes:
        return b"%PDF-1.7 stub " + hashlib.sha256(self.html.encode()).hexdigest().encode()


# --- expected refusals --------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """The refusal the model expects: ``rule`` names it, ``tag`` and ``text`` recognise it."""

    rule: str
    tag: str  # "perm", "site", an error code (error_codes), or "field:<name>"
    text: str = ""


PERM = Refusal("permission", "perm")
SITE = Refusal("site", "site")
NOT_ELIGIBLE = Refusal("eligibility", G.NOT_ELIGIBLE)
NO_CONSENT = Refusal("consent", G.NO_CONSENT)


def _recognise(exc: Exception) -> tuple[set[str], str]:
    """The tags and the text of a refusal."""
    if isinstance(exc, PermissionDenied):
        text = str(exc)
        return {"site" if "site you do not work at" in text else "perm"}, text
    tags = {"msg"}
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            tags.add(f"field:{name}")
            tags.update(e.code for e in errors if e.code)
    else:
        tags.update(e.code for e in exc.error_list if e.code)
    return tags, " ".join(exc.messages)


def expect(what: str, expected: Refusal | None, call):
    """Run ``call``; it must succeed if ``expected`` is None, else be refused exactly so."""
    _NEWEST_NOW.clear()  # the database may change: the invariants look again
    try:
        result = call()
    except (ValidationError, PermissionDenied) as exc:
        tags, text = _recognise(exc)
        assert expected is not None, (
            f"[rule model] {what} was refused but every rule held: {sorted(tags)} {text}"
        )
        assert expected.tag in tags and expected.text in text, (
            f"[rule {expected.rule}] {what}: expected refusal {expected.tag} "
            f"{expected.text!r}, got {sorted(tags)} {text!r}"
        )
        return None
    except Exception as exc:  # a crash where a refusal or success was due: name the rule
        rule_name = expected.rule if expected else "model"
        raise AssertionError(
            f"[rule {rule_name}] {what} crashed: {type(exc).__name__}: {exc}"
        ) from exc
    assert expected is None, (
        f"[rule {expected.rule}] {what} succeeded but must be refused ({expected.tag} "
        f"{expected.text!r})"
    )
    return result


# --- the model ----------------------------------------------------------------------------------


@dataclass
class MPlan:
    pk: int
    patient: int
    consents: list[int] = field(default_factory=list)  # in force: since the last withdrawal


@dataclass
class MProduct:
    pk: int
    code: str
    patient: int
    plan: int
    parent: int | None = None
    status: str = S.IN_PROCESSING
    volume: Decimal | None = None
    viable: int | None = None
    viability: Decimal | None = None
    sterility: str = "pending"
    expired: bool = False
    recorders: set[int] = field(default_factory=set)
    position: str | None = None


@dataclass
class Model:
    eligibility: list[str | None]  # final outcome of each patient's current decision
    decisions: list[int | None]  # pk of each patient's current decision
    engine: list[str | None]  # the engine's outcome of that decision
    plans: list[MPlan]
    products: dict[int, MProduct] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)


class Pathway(RuleBasedStateMachine):
    world: dict = {}
    administered = 0  # successful administrations over all examples
    refused = 0

    def __init__(self):
        super().__init__()
        self.savepoint = transaction.savepoint()
        w = self.world
        self._checked: dict[str, dict] = {}
        self.wrong_passwords = 0
        _NEWEST_NOW.clear()
        self.m = Model(
            eligibility=list(w["eligibility"]),
            decisions=list(w["decisions"]),
            engine=list(w["eligibility"]),
            plans=[MPlan(pk, patient, list(consents)) for pk, patient, consents in w["plans"]],
        )

    def teardown(self):
        transaction.savepoint_rollback(self.savepoint)
        _NEWEST_NOW.clear()

    # -- helpers ------------------------------------------------------------------------------

    def _patient(self, p):
        return self.world["patients"][p]

    def _product(self, i) -> MProduct | None:
        pks = sorted(self.m.products)
        return self.m.products[pks[i % len(pks)]] if pks else None

    def _plan(self, j) -> MPlan | None:
        return self.m.plans[j % len(self.m.plans)] if self.m.plans else None

    def _site_of(self, who: str) -> Refusal | None:
        return SITE if who.endswith("_b") else None

    def _recorders(self, product: MProduct) -> set[int]:
        ids, current = set(), product
        while current is not None:
            ids |= current.recorders
            current = self.m.products.get(current.parent) if current.parent else None
        return ids

    def _treatable(self, k) -> bool:
        plan = self.m.plans[k]
        return bool(plan.consents) and self.m.eligibility[plan.patient] == "candidate"

    def _ready(self, j) -> int:
        """Plan ``j`` among the plans that may be treated now (eligible patient, valid consent)."""
        ready = [k for k in range(len(self.m.plans)) if self._treatable(k)]
        return ready[j % len(ready)] if ready else j

    def _eligible(self, p) -> Refusal | None:
        return None if self.m.eligibility[p] == "candidate" else NOT_ELIGIBLE

    # -- assessment ---------------------------------------------------------------------------

    @rule(
        p=st.integers(0, 2),
        outcome=st.sampled_from(sorted(ASSESSMENTS)),
        who=st.sampled_from(["physician"] * 4 + ["physician_b", "nurse"]),
    )
    def assess(self, p, outcome, who):
        expected = PERM if who == "nurse" else self._site_of(who)
        assessment = expect(
            f"assessment_record({outcome}) by {who}",
            expected,
            lambda: assessment_record(
                actor=self.world[who],
                patient=self._patient(p),
                pattern="thinning",
                **ASSESSMENTS[outcome],
            ),
        )
        if assessment is not None:
            assert assessment.decision.outcome == outcome, "[rule model] engine outcome"
            self.m.eligibility[p] = self.m.engine[p] = outcome
            self.m.decisions[p] = assessment.decision.pk

    @rule(
        p=st.integers(0, 2),
        outcome=st.sampled_from(["candidate", "not_suitable"]),
        reason=st.sampled_from([GOOD_REASON, GOOD_REASON, "ok"]),
        who=st.sampled_from(["physician"] * 4 + ["physician_b", "nurse"]),
    )
    def override(self, p, outcome, reason, who):
        if self.m.decisions[p] is None:
            return  # nothing to override: the patient was never assessed
        decision = EligibilityDecision.objects.get(pk=self.m.decisions[p])
        expected = (
            PERM
            if who == "nurse"
            else self._site_of(who)
            or (
                Refusal("override-outcome", A.SAME_OUTCOME)
                if outcome == self.m.engine[p]
                else Refusal("override-reason", A.REASON_REQUIRED)
                if reason == "ok"
                else None
            )
        )
        done = expect(
            f"decision_override({outcome}) by {who}",
            expected,
            lambda: decision_override(
                actor=self.world[who], decision=decision, outcome=outcome, reason=reason
            ),
        )
        if done is not None:
            self.m.eligibility[p] = outcome

    # -- plan and consent ---------------------------------------------------------------------

    @rule(p=st.integers(0, 2), who=st.sampled_from(["physician"] * 4 + ["physician_b", "nurse"]))
    def create_plan(self, p, who):
        if len(self.m.plans) >= 6:
            return
        expected = PERM if who == "nurse" else self._site_of(who) or self._eligible(p)
        plan = expect(
            f"plan_create by {who}",
            expected,
            lambda: services.plan_create(
                actor=self.world[who], patient=self._patient(p), protocol=self.world["protocol"]
            ),
        )
        if plan is not None:
            self.m.plans.append(MPlan(plan.pk, p))

    @rule(j=st.integers(0, 5), who=st.sampled_from(["nurse"] * 4 + ["nurse_b"]))
    def sign_consent(self, j, who):
        plan = self._plan(j)
        if plan is None:
            return
        consent = expect(
            f"consent_sign by {who}",
            self._site_of(who),
            lambda: services.consent_sign(
                actor=self.world[who],
                plan=TreatmentPlan.objects.get(pk=plan.pk),
                consent_text=self.world["consent_text"],
                signer_name=self._patient(plan.patient).full_name,
                agrees=True,
            ),
        )
        if consent is not None:
            plan.consents.append(consent.pk)

    @rule(j=st.integers(0, 5), who=st.sampled_from(["nurse"] * 4 + ["nurse_b"]))
    def withdraw_consent(self, j, who):
        plan = self._plan(j)
        if plan is None or not plan.consents:
            return
        consent = Consent.objects.get(pk=plan.consents[-1])
        assert selectors.valid_consent_for(consent.plan) == consent, "[rule model] valid consent"
        done = expect(
            f"consent_withdraw by {who}",
            self._site_of(who),
            lambda: services.consent_withdraw(
                actor=self.world[who], consent=consent, reason="Patient changed their mind"
            ),
        )
        if done is not None:
            plan.consents.clear()  # a withdrawal ends every signature on the plan

    # -- harvest and the lab ------------------------------------------------------------------

    @rule(j=st.integers(0, 5), who=st.sampled_from(["physician"] * 4 + ["physician_b"]))
    def harvest(self, j, who):
        self._harvest(j, who)

    def _harvest(self, j, who) -> MProduct | None:
        plan = self._plan(j)
        if plan is None:
            return None
        expected = (
            self._site_of(who)
            or self._eligible(plan.patient)
            or (None if plan.consents else NO_CONSENT)
        )
        harvest = expect(
            f"harvest_record by {who}",
            expected,
            lambda: services.harvest_record(
                actor=self.world[who],
                plan=TreatmentPlan.objects.get(pk=plan.pk),
                performed_at=timezone.now(),  # after the consent, never before it
                site="periumbilical",
                cannula_or_punch_mm=Decimal("2.0"),
                volume_ml=Decimal("20"),
                sterile_checklist=CHECKLIST,
            ),
        )
        if harvest is None:
            return None
        product = harvest.products.get()
        self.m.products[product.pk] = MProduct(
            product.pk, product.product_code, plan.patient, self.m.plans.index(plan)
        )
        return self.m.products[product.pk]

    @rule(
        i=st.integers(0, 50),
        who=st.sampled_from(["lab", "lab", "lab2", "lab_b"]),
        viability=st.sampled_from(["0.55", "0.85", "0.85"]),
        cells=st.sampled_from([3_000_000, 9_000_000, 24_000_000]),
        volume=st.sampled_from(["2", "4", "4"]),
        sterility=st.sampled_from(["pass", "fail", "pending", "pending"]),
    )
    def record_results(self, i, who, viability, cells, volume, sterility):
        product = self._product(i)
        if product is None:
            return
        expected = self._site_of(who) or (
            (
                # Processing that ends now, after the product's expiry, is refused.
                Refusal("expiry", G.EXPIRED) if product.expired else None
            )
            if product.status in (S.IN_PROCESSING, S.QUARANTINE)
            else Refusal("status", G.WRONG_STATUS)
        )
        done = expect(
            f"product_record_results by {who} on a {product.status} product",
            expected,
            lambda: services.product_record_results(
                actor=self.world[who],
                product=CellProduct.objects.get(pk=product.pk),
                processing_ended_at=timezone.now(),  # after the harvest it started at
                total_nucleated_cells=cells * 2,
                viable_fraction=Decimal(viability),
                viable_cells=cells,
                volume_ml=Decimal(volume),
                qc_sterility=sterility,
                qc_endotoxin="pass",
            ),
        )
        if done is not None:
            product.status = S.QUARANTINE
            product.viability, product.viable = Decimal(viability), cells
            product.volume, product.sterility = Decimal(volume), sterility
            product.recorders.add(self.world[who].pk)

    @rule(
        i=st.integers(0, 50),
        who=st.sampled_from(["lab", "lab2"]),
        volumes=st.sampled_from([("1",), ("1", "1"), ("2",), ("1", "1", "1"), ("2", "2")]),
    )
    def draw_aliquots(self, i, who, volumes):
        product = self._product(i)
        if product is None:
            return
        volumes = [Decimal(v) for v in volumes]
        expected = (
            Refusal("status", G.WRONG_STATUS)
            if product.status != S.QUARANTINE
            else Refusal("split-volume", G.OVER_VOLUME)
            if sum(volumes) > product.volume
            else None
        )
        aliquots = expect(
            f"product_split {volumes} of {product.volume} mL",
            expected,
            lambda: services.product_split(
                actor=self.world[who],
                product=CellProduct.objects.get(pk=product.pk),
                volumes_ml=volumes,
            ),
        )
        if aliquots is None:
            return
        drawn = 0
        for volume, aliquot in zip(volumes, aliquots, strict=True):
            viable = int(product.viable * float(volume / product.volume))
            drawn += viable
            self.m.products[aliquot.pk] = MProduct(
                aliquot.pk,
                aliquot.product_code,
                product.patient,
                product.plan,
                parent=product.pk,
                status=S.QUARANTINE,
                volume=volume,
                viable=viable,
                viability=product.viability,
                sterility=product.sterility,
                expired=product.expired,
            )
        product.viable -= drawn
        product.recorders.add(self.world[who].pk)
        remaining = product.volume - sum(volumes)
        if remaining > 0:
            product.volume = remaining
        else:
            product.status = S.DISCARDED

    @rule(i=st.integers(0, 50), who=st.sampled_from(["lab", "lab2", "lab2", "lab_b", "nurse"]))
    def release(self, i, who):
        product = self._product(i)
        if product is None:
            return
        user = self.world[who]
        failed = [
            name
            for name, ok in (
                (
                    "viability",
                    product.viability is not None and product.viability >= Decimal("0.7"),
                ),
                ("dose", (product.viable or 0) >= 5_000_000),
                ("within expiry", not product.expired),
                ("QC not failed", product.sterility != "fail"),
            )
            if not ok
        ]
        expected = (
            PERM
            if who == "nurse"
            else self._site_of(who)
            or (
                Refusal("status", G.WRONG_STATUS)
                if product.status != S.QUARANTINE
                else Refusal("four-eyes", G.FOUR_EYES)
                if user.pk in self._recorders(product)
                # the code, and which criterion failed first
                else Refusal("release-gates", G.RELEASE_GATES_FAILED, f"{failed[0]} (")
                if failed
                else None
            )
        )
        done = expect(
            f"product_release by {who} of a {product.status} product",
            expected,
            lambda: services.product_release(
                actor=user, product=CellProduct.objects.get(pk=product.pk), password=PASSWORD
            ),
        )
        if done is not None:
            product.status = S.RELEASED

    @rule(i=st.integers(0, 50), slot=st.integers(1, 3), past=st.sampled_from([False] * 3 + [True]))
    def store(self, i, slot, past):
        product = self._product(i)
        if product is None:
            return
        occupied = any(
            p.position == str(slot) and p.status == S.STORED and p.pk != product.pk
            for p in self.m.products.values()
        )
        expected = (
            Refusal("expiry-store", G.EXPIRED)
            if past or product.expired
            else Refusal("position", G.POSITION_OCCUPIED)
            if occupied
            else None
            if product.status in (S.RELEASED, S.THAWED)
            else Refusal("status", G.WRONG_STATUS)
        )
        offset = timedelta(seconds=-1) if past else timedelta(days=300)
        done = expect(
            f"product_store of a {product.status} product, past expiry {past}",
            expected,
            lambda: services.product_store(
                actor=self.world["lab"],
                product=CellProduct.objects.get(pk=product.pk),
                freezer="LN2",
                rack="A",
                box="1",
                position=str(slot),
                expires_at=timezone.now() + offset,
            ),
        )
        if done is not None:
            product.status, product.expired, product.position = S.STORED, False, str(slot)

    @rule(i=st.integers(0, 50))
    def thaw(self, i):
        product = self._product(i)
        if product is None:
            return
        expected = (
            Refusal("expiry-thaw", G.EXPIRED)
            if product.expired
            else None
            if product.status == S.STORED
            else Refusal("status", G.WRONG_STATUS)
        )
        done = expect(
            f"product_thaw of a {product.status} product, expired {product.expired}",
            expected,
            lambda: services.product_thaw(
                actor=self.world["lab"], product=CellProduct.objects.get(pk=product.pk)
            ),
        )
        if done is not None:
            product.status, product.position = S.THAWED, None

    @rule(i=st.integers(0, 50))
    def discard(self, i):
        product = self._product(i)
        if product is None:
            return
        live = (S.IN_PROCESSING, S.QUARANTINE, S.RELEASED, S.STORED, S.THAWED)
        done = expect(
            f"product_discard of a {product.status} product",
            None if product.status in live else Refusal("status", G.WRONG_STATUS),
            lambda: services.product_discard(
                actor=self.world["lab"],
                product=CellProduct.objects.get(pk=product.pk),
                reason="Test discard",
            ),
        )
        if done is not None:
            product.status = S.DISCARDED

    @rule(i=st.integers(0, 50), sweep=st.booleans())
    def time_passes(self, i, sweep):
        """The product's expiry passes; the sweep marks everything due as expired."""
        product = self._product(i)
        if product is None or product.status in (S.ADMINISTERED, S.DISCARDED, S.EXPIRED):
            return
        _NEWEST_NOW.clear()
        CellProduct.objects.filter(pk=product.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        product.expired = True
        if sweep:
            due = [
                p
                for p in self.m.products.values()
                if p.expired and p.status not in (S.ADMINISTERED, S.DISCARDED, S.EXPIRED)
            ]
            assert services.products_expire_due(actor=self.world["lab"]) == len(due)
            for p in due:
                p.status = S.EXPIRED

    # -- administration -----------------------------------------------------------------------

    @rule(
        i=st.integers(0, 50),
        plan_of=st.sampled_from(["own"] * 5 + ["other"]),
        mrn_of=st.sampled_from(["plan"] * 5 + ["product", "other"]),
        code=st.sampled_from(["right"] * 5 + ["wrong_check", "garbage"]),
        who=st.sampled_from(["physician"] * 8 + ["physician_b", "nurse"]),
        verifier=st.sampled_from(["nurse"] * 6 + ["self", "lab", "nurse_both"]),
        password_ok=st.sampled_from([True] * 6 + [False]),
        replay=st.sampled_from([False] * 6 + [True]),
        dose=st.sampled_from(["below", "equal", "equal", "above", "over_cells"]),
    )
    def administer(self, i, plan_of, mrn_of, code, who, verifier, password_ok, replay, dose):
        product = self._product(i)
        if product is None:
            return
        if not password_ok:
            # AXES_FAILURE_LIMIT wrong passwords lock the verifier out, which this model does
            # not follow (the lockout has its own tests): each example stays below it.
            if self.wrong_passwords >= django_settings.AXES_FAILURE_LIMIT - 1:
                password_ok = True
            else:
                self.wrong_passwords += 1
        plan = self.m.plans[product.plan]
        if plan_of == "other":
            others = [k for k, p in enumerate(self.m.plans) if p.patient != product.patient]
            # a treatable plan of someone else: the mix-up most likely to slip through
            choices = [k for k in others if self._treatable(k)] or others or [product.plan]
            plan = self.m.plans[choices[i % len(choices)]]
        patient = self._patient(plan.patient)
        mrn = {
            "plan": patient.mrn,
            "product": self._patient(product.patient).mrn,
            "other": "AN9999999",
        }[mrn_of]
        scanned = {
            "right": product.code,
            "wrong_check": _wrong_check(product.code),
            "garbage": "NOT-A-CODE",
        }[code]
        actor = self.world[who]
        checker = actor if verifier == "self" else self.world[verifier]
        token = self.m.tokens[-1] if replay and self.m.tokens else uuid.uuid4().hex
        volume = product.volume or Decimal(1)
        points = int(volume / Decimal("0.05")) + {"below": -1, "above": 1}.get(dose, 0)
        per_point = (product.viable or 0) // points + (1 if dose == "over_cells" else 0)
        expected = self._administration_refusal(
            product, plan, mrn, code, who, verifier, password_ok, token, dose
        )
        session = expect(
            f"session_administer ({product.status} product, plan of {plan_of}, MRN of {mrn_of}, "
            f"code {code}, by {who}, verifier {verifier}, password {password_ok}, "
            f"replay {replay and bool(self.m.tokens)}, map {dose})",
            expected,
            lambda: services.session_administer(
                actor=actor,
                plan=TreatmentPlan.objects.get(pk=plan.pk),
                scanned_product_code=scanned,
                scanned_mrn=mrn,
                verifier=checker,
                verifier_password=PASSWORD if password_ok else "wrong password",
                zones=[
                    {
                        "zone": "vertex",
                        "points": points,
                        "volume_per_point_ml": "0.05",
                        "cells_per_point": per_point,
                    }
                ],
                started_at=timezone.now() - timedelta(minutes=1),  # after the release
                ended_at=timezone.now(),
                submission_token=token,
            ),
        )
        if session is None:
            Pathway.refused += 1
            return
        product.status = S.ADMINISTERED
        self.m.tokens.append(token)
        Pathway.administered += 1

    def _administration_refusal(
        self, product, plan, mrn, code, who, verifier, password_ok, token, dose
    ) -> Refusal | None:
        """The first rule ``session_administer`` must refuse by, in the order it checks."""
        if who == "nurse":
            return PERM
        if who == "physician_b":
            return SITE
        if token in self.m.tokens:
            return Refusal("replay", G.ALREADY_RECORDED)
        if verifier == "self":
            return Refusal("verifier-not-administrator", G.VERIFIER_IS_ADMINISTRATOR)
        if verifier == "lab":
            return Refusal("verifier-role", G.VERIFIER_ROLE)
        if not password_ok:
            return Refusal("verifier-password", G.VERIFIER_PASSWORD)
        if self.m.eligibility[plan.patient] != "candidate":
            return NOT_ELIGIBLE
        if not plan.consents:
            return NO_CONSENT
        if code != "right":
            return Refusal("product-code", G.INVALID_IDENTIFIER)
        if mrn != self._patient(plan.patient).mrn:
            return Refusal("mrn", G.MRN_MISMATCH)
        if product.patient != plan.patient:
            return Refusal("patient", G.WRONG_PATIENT)
        if product.status == S.ADMINISTERED:
            return Refusal("once", G.ALREADY_ADMINISTERED)
        if product.status not in (S.RELEASED, S.THAWED):
            return Refusal("status", G.WRONG_STATUS)
        if product.expired:
            return Refusal("expiry", G.EXPIRED)
        if dose == "above":
            return Refusal("volume", G.OVER_VOLUME)
        if dose == "over_cells":
            return Refusal("cells", G.OVER_CELLS)
        return None

    @rule(j=st.integers(0, 5))
    def the_correct_path(self, j):
        """The common day: harvest, good results, a second technician releases, administration."""
        product = self._harvest(self._ready(j), "physician")
        if product is None:
            return
        index = sorted(self.m.products).index(product.pk)
        self.record_results(index, "lab", "0.85", 24_000_000, "4", "pending")
        self.release(index, "lab2")
        self.administer(index, "own", "plan", "right", "physician", "nurse", True, False, "equal")

    @rule(j=st.integers(0, 5), fault=st.sampled_from(PRODUCT_FAULTS))
    def the_path_with_a_product_fault(self, j, fault):
        self.the_path_with_one_fault(j, fault)

    @rule(j=st.integers(0, 5), fault=st.sampled_from(IDENTITY_FAULTS))
    def the_path_with_an_identity_fault(self, j, fault):
        self.the_path_with_one_fault(j, fault)

    @rule(j=st.integers(0, 5), fault=st.sampled_from(PEOPLE_FAULTS))
    def the_path_with_a_people_fault(self, j, fault):
        self.the_path_with_one_fault(j, fault)

    def the_path_with_one_fault(self, j, fault):
        """The common day with one thing wrong; the model says which rule must refuse."""
        product = self._harvest(self._ready(j), "physician")
        if product is None:
            return
        index = sorted(self.m.products).index(product.pk)
        self.record_results(index, "lab", "0.85", 24_000_000, "4", "pending")
        self.release(index, "lab" if fault == "four_eyes" else "lab2")
        if fault in ("expired", "expired_swept"):
            self.time_passes(index, fault == "expired_swept")
        if fault == "withdrawn":
            self.withdraw_consent(product.plan, "nurse")
        if fault == "not_suitable":
            self.assess(product.patient, "not_suitable", "physician")
        self.administer(
            index,
            "other" if fault == "other_patient" else "own",
            "other" if fault == "mrn" else "plan",
            "wrong_check" if fault == "wrong_check" else "right",
            "physician_b" if fault == "other_site" else "physician",
            {"self": "self", "wrong_role": "lab"}.get(fault, "nurse"),
            fault != "bad_password",
            fault == "replay",
            fault if fault in ("below", "above", "over_cells") else "equal",
        )

    @rule(j=st.integers(0, 5), slot=st.integers(1, 3))
    def the_cryo_path(self, j, slot):
        """Harvest, results, release, cryo storage, thaw, then a partial administration."""
        product = self._harvest(self._ready(j), "physician")
        if product is None:
            return
        index = sorted(self.m.products).index(product.pk)
        self.record_results(index, "lab2", "0.85", 9_000_000, "4", "pass")
        self.release(index, "lab")
        self.store(index, slot, False)
        self.thaw(index)
        self.administer(index, "own", "plan", "right", "physician", "nurse", True, False, "below")

    # -- invariants: one per rule -------------------------------------------------------------
    #
    # Each invariant checks what the last step wrote: the rows (or history rows) newer than the
    # newest it saw before. Sessions, custody events, signatures, harvests, plans, consents and
    # assessments are append-only for these facts, so a row once checked stays checked; a product
    # whose record or custody changed is checked again whole. One query finds the newest rows.

    def _new(self, name: str) -> tuple[dict, dict] | None:
        """(before, now): the newest row ids this invariant saw last time and now; None: nothing."""
        now = _newest_rows()
        before = self._checked.get(name, dict.fromkeys(now, 0))
        if before == now:
            return None
        self._checked[name] = now
        return before, now

    @staticmethod
    def _grew(new: tuple[dict, dict], table: str) -> bool:
        """Whether ``table`` has rows newer than before (else a ``pk__gt`` query finds none)."""
        return new[1][table] > new[0][table]

    def _new_sessions(self, name: str):
        new = self._new(name)
        if new is None or not self._grew(new, "session"):
            return []
        return list(
            TreatmentSession.objects.filter(pk__gt=new[0]["session"]).select_related(
                "product__harvest", "patient", "plan", "performed_by", "verified_by"
            )
        )

    @classmethod
    def _changed_products(cls, new: tuple[dict, dict]):
        before, ids = new[0], set()
        if cls._grew(new, "product"):
            ids |= set(
                CellProduct.history.filter(history_id__gt=before["product"]).values_list(
                    "id", flat=True
                )
            )
        if cls._grew(new, "custody"):
            ids |= set(
                CustodyEvent.objects.filter(pk__gt=before["custody"]).values_list(
                    "product_id", flat=True
                )
            )
        return CellProduct.objects.filter(pk__in=ids)

    @staticmethod
    def _administered_at(session):
        return session.history.order_by("history_date", "history_id").first().history_date

    @invariant()
    def inv_patient_match(self):
        for session in self._new_sessions("inv_patient_match"):
            product = session.product
            assert product.patient_id == session.patient_id == product.harvest.patient_id, (
                f"[invariant patient_match] {product.product_code} given to another patient"
            )
            assert session.plan.patient_id == session.patient_id, "[invariant patient_match] plan"
            assert session.scanned_product_code == product.product_code, (
                "[invariant patient_match] the scanned code is not the product's"
            )
            assert session.scanned_mrn == session.patient.mrn, (
                "[invariant mrn_matched] the scanned MRN is not the patient's"
            )

    @invariant()
    def inv_eligible_at_administration(self):
        for session in self._new_sessions("inv_eligible_at_administration"):
            at = self._administered_at(session)
            assessments = [
                a
                for a in Assessment.objects.filter(patient=session.patient).select_related(
                    "decision"
                )
                if a.history.order_by("history_date").first().history_date <= at
            ]
            assert assessments, "[invariant eligible_at_administration] never assessed"
            latest = max(assessments, key=lambda a: (a.assessed_at, a.pk))
            state = (
                latest.decision.history.filter(history_date__lte=at)
                .order_by("-history_date", "-history_id")
                .first()
            )
            outcome = state.override_outcome or state.outcome
            assert outcome == "candidate", (
                f"[invariant eligible_at_administration] administered while {outcome}"
            )

    @invariant()
    def inv_consent_valid_at_administration(self):
        for session in self._new_sessions("inv_consent_valid_at_administration"):
            at = self._administered_at(session)
            valid = [
                c
                for c in Consent.objects.filter(plan=session.plan)
                if c.signed_at <= at and (c.withdrawn_at is None or c.withdrawn_at > at)
            ]
            assert valid, "[invariant consent_valid_at_administration] no valid consent then"

    @invariant()
    def inv_volume_and_cells_within_product(self):
        for session in self._new_sessions("inv_volume_and_cells_within_product"):
            product = session.product
            zones = list(session.zones.all())
            volume = sum(z.points * z.volume_per_point_ml for z in zones)
            cells = sum(z.points * z.cells_per_point for z in zones)
            assert volume == session.total_volume_ml and cells == session.total_cells, (
                "[invariant volume_within_product] totals differ from the injection map"
            )
            assert session.total_volume_ml <= product.volume_ml, (
                f"[invariant volume_within_product] {session.total_volume_ml} mL > "
                f"{product.volume_ml} mL"
            )
            assert session.total_cells <= product.viable_cells, (
                f"[invariant cells_within_viable] {session.total_cells} > {product.viable_cells}"
            )

    @invariant()
    def inv_never_after_expiry(self):
        for session in self._new_sessions("inv_never_after_expiry"):
            # expires_at changes only before administration (cryo storage, thaw)
            assert session.product.expires_at > self._administered_at(session), (
                f"[invariant never_after_expiry] {session.product.product_code} administered "
                "after its expiry"
            )

    @invariant()
    def inv_verifier_is_a_second_authorised_person(self):
        for session in self._new_sessions("inv_verifier_is_a_second_authorised_person"):
            assert session.verified_by_id != session.performed_by_id, (
                "[invariant verifier_not_administrator] the administrator verified themself"
            )
            assert allows(session.verified_by, Perm.SESSION_VERIFY), (
                f"[invariant verifier_role] verifier is a {session.verified_by.role}"
            )

    @invariant()
    def inv_releaser_did_not_record_results(self):
        new = self._new("inv_releaser_did_not_record_results")
        if new is None or not self._grew(new, "signature"):
            return
        for signature in Signature.objects.filter(
            pk__gt=new[0]["signature"], meaning=Signature.Meaning.RELEASE
        ):
            product = CellProduct.objects.get(pk=signature.object_id)
            recorders, current = set(), product
            while current is not None:
                recorders |= set(
                    current.custody.filter(
                        kind=CustodyEvent.Kind.RESULTS, at__lte=signature.signed_at
                    ).values_list("actor_id", flat=True)
                )
                current = current.parent
            assert signature.signer_id not in recorders, (
                f"[invariant releaser_not_recorder] {product.product_code} released by the "
                "technician who recorded its results"
            )

    @invariant()
    def inv_site_access(self):
        new = self._new("inv_site_access")
        if new is None:
            return
        before, grew = new[0], lambda table: self._grew(new, table)
        acts = []
        if grew("session"):
            acts += [
                (s.performed_by_id, s.patient.site_id, "session")
                for s in TreatmentSession.objects.filter(pk__gt=before["session"]).select_related(
                    "patient"
                )
            ]
        if grew("custody"):
            acts += [
                (e.actor_id, e.product.patient.site_id, f"custody {e.kind}")
                for e in CustodyEvent.objects.filter(pk__gt=before["custody"]).select_related(
                    "product__patient"
                )
            ]
        if grew("harvest"):
            acts += [
                (h.operator_id, h.patient.site_id, "harvest")
                for h in Harvest.objects.filter(pk__gt=before["harvest"]).select_related("patient")
            ]
        if grew("consent"):
            acts += [
                (c.witnessed_by_id, c.plan.patient.site_id, "consent")
                for c in Consent.history.filter(history_id__gt=before["consent"]).select_related(
                    "plan__patient"
                )
            ]
        if grew("plan"):
            acts += [
                (p.created_by_id, p.patient.site_id, "plan")
                for p in TreatmentPlan.objects.filter(pk__gt=before["plan"]).select_related(
                    "patient"
                )
            ]
        if grew("assessment"):
            acts += [
                (a.assessed_by_id, a.patient.site_id, "assessment")
                for a in Assessment.objects.filter(pk__gt=before["assessment"]).select_related(
                    "patient"
                )
            ]
        if grew("decision"):
            acts += [
                (d.overridden_by_id, d.assessment.patient.site_id, "override")
                for d in EligibilityDecision.history.filter(
                    history_id__gt=before["decision"], overridden_by__isnull=False
                ).select_related("assessment__patient")
            ]
        allowed = self.world["site_access"]
        for user_id, site_id, what in acts:
            assert site_id in allowed[user_id], (
                f"[invariant site_access] {what} by staff who do not work at the patient's site"
            )

    @invariant()
    def inv_custody_and_history_for_every_status_change(self):
        new = self._new("inv_custody_and_history_for_every_status_change")
        if new is None:
            return
        for product in self._changed_products(new):
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
            assert history == custody, f"[invariant custody_and_history] {history} {custody}"
            assert product.status == custody[-1], "[invariant custody_and_history] last status"

    @invariant()
    def inv_signatures_still_verify(self):
        new = self._new("inv_signatures_still_verify")
        if new is None:
            return
        before = new[0]
        signed = (S.RELEASED, S.STORED, S.THAWED, S.ADMINISTERED)
        for product in self._changed_products(new).filter(status__in=signed):
            assert current_signature(product, Signature.Meaning.RELEASE) is not None, (
                f"[invariant release_signature] {product.product_code} ({product.status})"
            )
        sessions = TreatmentSession.objects.filter(pk__gt=before["session"])
        for session in sessions if self._grew(new, "session") else []:
            signature = current_signature(session, Signature.Meaning.VERIFY)
            assert signature is not None and signature.signer_id == session.verified_by_id, (
                "[invariant verify_signature] session without the verifier's signature"
            )

    @invariant()
    def inv_model_matches_database(self):
        if self._new("inv_model_matches_database") is None:
            return
        statuses = dict(CellProduct.objects.values_list("pk", "status"))
        model = {pk: p.status for pk, p in self.m.products.items()}
        assert statuses == model, f"[invariant model] {statuses} != {model}"

    @initialize()
    def harvest_the_consented_plans(self):
        for j, plan in enumerate(self.m.plans):
            if plan.consents:
                self._harvest(j, "physician")


_NEWEST: dict[str, str] = {}
#: The answer since the last write (every write of the machine goes through ``expect`` or
#: ``time_passes``, which clear it), so the invariants after one step ask the database once.
_NEWEST_NOW: dict[str, int] = {}


def _newest_rows() -> dict[str, int]:
    """The newest row id (history id for records that change) of each table invariants read."""
    if not _NEWEST:
        for name, model in (
            ("product", CellProduct.history.model),
            ("custody", CustodyEvent),
            ("signature", Signature),
            ("session", TreatmentSession),
            ("zone", InjectionZone),
            ("assessment", Assessment),
            ("decision", EligibilityDecision.history.model),
            ("consent", Consent.history.model),
            ("plan", TreatmentPlan),
            ("harvest", Harvest),
        ):
            table = connection.ops.quote_name(model._meta.db_table)
            column = connection.ops.quote_name(model._meta.pk.column)
            _NEWEST[name] = f"(SELECT MAX({column}) FROM {table})"  # noqa: S608 (model names)
    if not _NEWEST_NOW:
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(_NEWEST.values()))
            row = cursor.fetchone()
        _NEWEST_NOW.update((name, value or 0) for name, value in zip(_NEWEST, row, strict=True))
    return dict(_NEWEST_NOW)


def _wrong_check(code: str) -> str:
    head, _, suffix = code.partition("-")
    swapped = "0" if head[-1] != "0" else "1"
    return f"{head[:-1]}{swapped}-{suffix}"


@pytest.mark.slow(90)
@pytest.mark.django_db
def test_pathway_guardrails_hold_for_random_operation_sequences(
    staff, site, other_site, coordinator, monkeypatch
):
    import anagen

    print(f"anagen imported from {anagen.__file__}")
    monkeypatch.setattr("weasyprint.HTML", FastPdf)
    protocol, consent_text = ensure_defaults()
    world = {
        "physician": staff[Role.PHYSICIAN],
        "nurse": staff[Role.NURSE],
        "lab": staff[Role.LAB_TECHNICIAN],
        "lab2": second_lab_technician(staff[Role.LAB_TECHNICIAN]),
        "physician_b": make_user(Role.PHYSICIAN, other_site),
        "nurse_b": make_user(Role.NURSE, other_site),
        "lab_b": make_user(Role.LAB_TECHNICIAN, other_site),
        "protocol": protocol,
        "consent_text": consent_text,
    }
    world["nurse_both"] = make_user(Role.NURSE, site, other_site)  # works at both
    world["site_access"] = {
        user.pk: set(user.sites.values_list("pk", flat=True)) for user in User.objects.all()
    }
    patients, plans = [], []
    for n, (given, family) in enumerate([("Ada", "Quill"), ("Bo", "Rook"), ("Cy", "Wren")]):
        patients.append(
            patient_create(
                actor=coordinator,
                site=site,
                given_name=given,
                family_name=family,
                date_of_birth=date(1980 + n, 1, 1),
                sex="female",
            )
        )
    eligibility, decisions = [], []
    for n, patient in enumerate(patients):
        if n == 2:  # never assessed
            eligibility.append(None)
            decisions.append(None)
            continue
        assessment = assessment_record(
            actor=world["physician"],
            patient=patient,
            pattern="thinning",
            **ASSESSMENTS["candidate"],
        )
        eligibility.append("candidate")
        decisions.append(assessment.decision.pk)
        plan = services.plan_create(actor=world["physician"], patient=patient, protocol=protocol)
        consent = services.consent_sign(
            actor=world["nurse"],
            plan=plan,
            consent_text=consent_text,
            signer_name=patient.full_name,
            agrees=True,
        )
        plans.append((plan.pk, n, [consent.pk]))
    world.update(patients=patients, plans=plans, eligibility=eligibility, decisions=decisions)
    Pathway.world = world
    Pathway.administered = Pathway.refused = 0
    phases = [Phase.generate] if NO_SHRINK else [Phase.generate, Phase.shrink]
    run_state_machine_as_test(
        Pathway,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            phases=phases,
            suppress_health_check=list(HealthCheck),
        ),
    )
    print(f"{Pathway.administered} administrations, {Pathway.refused} refused")
    # The machine really exercised the happy path too, not only refusals.
    assert Pathway.administered >= EXAMPLES // 3, Pathway.administered
