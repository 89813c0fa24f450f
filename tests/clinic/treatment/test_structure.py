"""The treatment app's structure holds: selectors only read, every custody event goes through
``events``, every service refusal carries a code, the lab results are one list, the expiry sweep
runs on the beat as the system actor, and imaging's services and tasks do not import each other.
"""

from __future__ import annotations

import ast
import inspect
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.urls import reverse
from django.utils import timezone

from anagen.clinic.accounts.policy import Perm, allows
from anagen.clinic.accounts.roles import Role
from anagen.clinic.accounts.system import system_actor
from anagen.clinic.treatment import events, services
from anagen.clinic.treatment.error_codes import TreatmentErrorCode
from anagen.clinic.treatment.forms import ResultsForm
from anagen.clinic.treatment.models import CellProduct, CustodyEvent
from anagen.clinic.treatment.services.lifecycle import RESULT_FIELDS, RESULTS_ALSO_SET
from anagen.clinic.treatment.tasks import expire_products
from tests.clinic.conftest import PASSWORD, make_user
from tests.clinic.treatment_helpers import consented_plan, harvest, released_product
from tests.guards import ACCESS, GUARDS, _guarded_raise, markers

ROOT = Path(__file__).resolve().parents[3]
TREATMENT = ROOT / "anagen/clinic/treatment"
IMAGING = ROOT / "anagen/clinic/imaging"


def _imports(path: Path, package: str) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function, resolved to full names."""
    here = package.rsplit(".", 1)[0] if path.name != "__init__.py" else package
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here
            for _ in range(node.level - 1):
                base = base.rsplit(".", 1)[0]
            module = (
                f"{base}.{node.module}"
                if node.level and node.module
                else base
                if node.level
                else node.module
            )
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


# --- selectors, events, codes -------------------------------------------------------------


def test_selectors_never_import_services():
    imported = _imports(TREATMENT / "selectors.py", "anagen.clinic.treatment.selectors")
    assert not [m for m in imported if ".services" in m or m.endswith(".events")]


def test_only_events_writes_custody():
    for path in TREATMENT.rglob("*.py"):
        if path.name != "events.py" and "migrations" not in path.parts:
            assert "CustodyEvent.objects.create" not in path.read_text(), path


def test_every_custody_kind_has_its_event_function(patient, staff):
    physician, nurse, lab = (staff[r] for r in (Role.PHYSICIAN, Role.NURSE, Role.LAB_TECHNICIAN))
    product = harvest(physician, consented_plan(physician, nurse, patient)).products.get()
    written = [
        events.product_created(actor=lab, product=product, harvest=product.harvest),
        events.product_status_changed(
            actor=lab, product=product, from_status="in_processing", reason="Test"
        ),
        events.product_results_recorded(actor=lab, product=product),
        events.product_located(actor=lab, product=product, reason="Moved"),
        events.product_label_printed(actor=lab, product=product),
        events.product_handed_over(actor=lab, product=product, to_user=nurse, location="Room 2"),
    ]
    assert {e.kind for e in written} == set(CustodyEvent.Kind.values)
    assert written[-1].reason.startswith(f"Handed to {nurse.display_name}")
    assert all(e.to_status == product.status and e.actor == lab for e in written)


def _raises_without_code(path: Path) -> list[int]:
    bad = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
            continue
        name = getattr(node.exc.func, "id", getattr(node.exc.func, "attr", ""))
        if name not in ("ValidationError", "IdentityCheckFailed"):
            continue
        calls = [n for n in ast.walk(node.exc) if isinstance(n, ast.Call)]
        coded = any(
            getattr(c.func, "id", "") in ("_gate", "refusal")
            or any(k.arg == "code" for k in c.keywords)
            for c in calls
        )
        # A collected ``errors`` mapping: its items carry the codes (checked by the app's tests).
        coded = coded or (len(node.exc.args) == 1 and isinstance(node.exc.args[0], ast.Name))
        if not coded:
            bad.append(node.lineno)
    return bad


def test_every_treatment_refusal_carries_a_code():
    for path in sorted((TREATMENT / "services").glob("*.py")):
        assert _raises_without_code(path) == [], path


@pytest.mark.parametrize("app", ["intake", "patients", "assessment", "imaging"])
def test_every_refusal_of_the_other_apps_carries_a_code(app):
    assert _raises_without_code(ROOT / f"anagen/clinic/{app}/services.py") == []


def test_every_guard_marker_refuses_with_a_code():
    codes = set(TreatmentErrorCode.__members__)
    for guard, (path, _) in GUARDS.items():
        if path == ACCESS:
            continue  # the site guard is a PermissionDenied
        source = (ROOT / path).read_text()
        tree = ast.parse(source)
        for line in markers(source)[guard]:
            node = _guarded_raise(tree, line, f"{path}:{line}")
            used = {
                n.attr
                for n in ast.walk(node)
                if isinstance(n, ast.Attribute) and getattr(n.value, "id", "") == "Code"
            }
            assert used & codes, (guard, path, line)


# --- the laboratory's results are one list ---------------------------------------------------


def test_the_results_form_service_and_page_read_result_fields(client, patient, staff):
    form = ResultsForm()
    assert list(form.fields) == [ResultsForm.input_of(name) for name in RESULT_FIELDS]
    physician, nurse = staff[Role.PHYSICIAN], staff[Role.NURSE]
    lab = staff[Role.LAB_TECHNICIAN]
    product = released_product(physician, lab, consented_plan(physician, nurse, patient))
    bound = ResultsForm(ResultsForm.initial_from(product))
    assert bound.is_valid(), bound.errors
    assert list(bound.service_fields()) == list(RESULT_FIELDS)
    client.force_login(lab)
    page = client.get(reverse("treatment:product", args=[product.pk])).content.decode()
    for name in RESULT_FIELDS:
        label = str(CellProduct._meta.get_field(name).verbose_name)
        assert f"<dt>{label[0].upper()}{label[1:]}</dt>" in page, name


def test_the_results_service_takes_exactly_the_result_fields():
    parameters = list(inspect.signature(services.product_record_results).parameters)
    assert parameters == ["actor", "product", *RESULT_FIELDS, *RESULTS_ALSO_SET]


# --- the scheduled expiry sweep ------------------------------------------------------------------


def test_the_beat_schedule_runs_the_expiry_sweep():
    entry = settings.CELERY_BEAT_SCHEDULE["cell-products-expiry-sweep"]
    assert entry["task"] == expire_products.name
    assert entry["schedule"] <= 60 * 60


def test_the_expiry_task_expires_as_the_system_actor(patient, staff, other_site):
    physician, nurse = staff[Role.PHYSICIAN], staff[Role.NURSE]
    lab = staff[Role.LAB_TECHNICIAN]
    product = released_product(physician, lab, consented_plan(physician, nurse, patient))
    fresh = harvest(physician, product.harvest.plan).products.get(status="in_processing")
    CellProduct.objects.filter(pk=product.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert expire_products.delay().get() == 1  # every site: no lab technician's scope
    product.refresh_from_db()
    fresh.refresh_from_db()
    assert (product.status, fresh.status) == ("expired", "in_processing")
    event = product.custody.order_by("-pk").first()
    assert (event.kind, event.from_status, event.to_status) == ("status", "released", "expired")
    assert event.actor == system_actor()
    assert expire_products.delay().get() == 0


@pytest.mark.django_db
def test_the_system_actor_cannot_sign_in_or_act():
    actor = system_actor()
    assert system_actor().pk == actor.pk  # one account
    assert not actor.is_active and not actor.has_usable_password() and actor.role == ""
    assert not actor.is_staff and not actor.is_superuser
    assert not any(allows(actor, perm) for perm in Perm)
    assert not ModelBackend().user_can_authenticate(actor)
    assert not actor.check_password("") and not actor.check_password(PASSWORD)


def test_a_lab_technician_sweep_stays_in_their_sites(patient, staff, other_site):
    physician, nurse = staff[Role.PHYSICIAN], staff[Role.NURSE]
    lab = staff[Role.LAB_TECHNICIAN]
    product = released_product(physician, lab, consented_plan(physician, nurse, patient))
    CellProduct.objects.filter(pk=product.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    elsewhere = make_user(Role.LAB_TECHNICIAN, other_site, email="lab-elsewhere@example.test")
    assert services.products_expire_due(actor=elsewhere) == 0
    assert services.products_expire_due(actor=lab) == 1


# --- imaging: no import cycle ------------------------------------------------------------------


def _cycles(package_dir: Path) -> list[list[str]]:
    modules = {_module(p): p for p in package_dir.rglob("*.py") if "migrations" not in p.parts}
    graph = {
        name: {m for m in _imports(path, name) if m in modules and m != name}
        for name, path in modules.items()
    }
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        for nxt in graph[node]:
            if nxt in stack:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif len(stack) < 8:
                visit(nxt, [*stack, nxt])

    for start in graph:
        visit(start, [start])
    return cycles


def test_imaging_services_and_tasks_do_not_import_each_other():
    assert _cycles(IMAGING) == []
    services_imports = _imports(IMAGING / "services.py", "anagen.clinic.imaging.services")
    assert "anagen.clinic.imaging.tasks" not in services_imports


def test_treatment_modules_have_no_import_cycle():
    # services/__init__ re-exports its modules; the modules never import the package back.
    cycles = [
        c
        for c in _cycles(TREATMENT)
        if c[0] != "anagen.clinic.treatment.services"
        and c[-1] != "anagen.clinic.treatment.services"
    ]
    assert cycles == []
