"""Every write service asks the access policy before it touches anything.

The services are enumerated from the modules, not listed here, so a new service is checked
automatically: called by a signed-in member of staff whose role holds no permission, it must
raise PermissionDenied (before reading its other arguments, which are dummies). Functions that
take no actor are listed in ``NOT_STAFF_ACTIONS`` with the reason they need none.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied

import anagen.clinic
from anagen.clinic.accounts.models import User
from anagen.clinic.accounts.policy import PERMISSIONS, Perm, allows, require

pytestmark = pytest.mark.django_db

#: "module.function": why it takes no member of staff (reads, jobs, the public form, gates that
#: a checked service calls).
NOT_STAFF_ACTIONS = {
    "assessment.facts_from_assessment": "pure conversion of a stored assessment",
    "imaging.trichoscopy_analyse": "background job on an image a clinician uploaded",
    "imaging.reanalyse_outdated": "operator's command after an engine upgrade",
    "imaging.analyses_retry_stuck": "scheduled job: retries or fails stuck analyses",
    "intake.inquiry_submit": "the public consultation request form",
    "intake.clinician_conflicts": "read: a clinician's clashing appointments",
    "intake.reminders_send_due": "scheduled job",
    "patients.mrn_next": "sequence used inside patient_create",
    "treatment.require_eligible": "gate called by checked services",
    "treatment.require_valid_consent": "gate called by checked services",
    "treatment.identity_check": "gate called inside session_administer",
    "treatment.products_expire_due_scheduled": "scheduled job: acts as the system actor",
    "treatment.visits_schedule": "called inside session_administer",
    "registry.outcomes_refresh": "job: rebuilds derived rows after a committed change",
    "progress.snapshot_refresh": "job: recomputes a site's derived forecast and plot",
    "progress.snapshots_refresh": "job: recomputes a patient's outdated snapshots",
    "progress.snapshots_refresh_later": "queues that job after the outcome rows are rebuilt",
    "progress.snapshot_request": "a page found the derived snapshot outdated: queue it once",
    "review.review_pairs_create_scheduled": "scheduled job: acts as the system actor",
    "imaging.match_references": "read: the baseline and previous images a follow-up is matched to",
    "imaging.trichoscopy_match": "background job after an analysis a clinician's upload queued",
    "fhir.bundle_load": "pure parsing of an uploaded Bundle; the import services check the actor",
    "spreadsheets.table_load": "pure parsing of an uploaded table",
    "spreadsheets.column_mapping": "pure: which column holds which field",
    "spreadsheets.parse_mapping": "pure: parses the mapping the user typed",
}


def services() -> list[tuple[str, object]]:
    found = []
    for module_info in pkgutil.iter_modules(anagen.clinic.__path__):
        try:
            module = importlib.import_module(f"anagen.clinic.{module_info.name}.services")
        except ModuleNotFoundError:
            continue
        modules = [module]
        if hasattr(module, "__path__"):  # a services package: one module per step
            modules += [
                importlib.import_module(f"{module.__name__}.{sub.name}")
                for sub in pkgutil.iter_modules(module.__path__)
            ]
        for each in modules:
            for name, function in inspect.getmembers(each, inspect.isfunction):
                if function.__module__ == each.__name__ and not name.startswith("_"):
                    found.append((f"{module_info.name}.{name}", function))
    return found


def test_every_service_is_enumerated_and_classified():
    names = {name for name, _ in services()}
    assert len(names) > 30, names
    stale = set(NOT_STAFF_ACTIONS) - names
    assert not stale, f"listed but gone: {stale}"


@pytest.mark.parametrize("name, service", services(), ids=[n for n, _ in services()])
def test_a_role_without_permission_is_refused_by_every_service(name, service):
    parameters = inspect.signature(service).parameters
    if name in NOT_STAFF_ACTIONS:
        return
    assert "actor" in parameters, f"{name} writes without an actor: add one and ask the policy"
    # Works at every site, so only the permission check can refuse.
    nobody = User(pk=999_999, role="nobody", is_active=True, all_sites=True)
    arguments = {
        p: mock.MagicMock(name=p)
        for p, spec in parameters.items()
        if p != "actor" and spec.default is inspect.Parameter.empty
    }
    with pytest.raises(PermissionDenied):
        service(actor=nobody, **arguments)


def test_every_permission_is_held_by_someone_and_inactive_users_hold_none():
    held = set().union(*PERMISSIONS.values())
    assert held == set(Perm)
    sleeping = User(role="physician", is_active=False)
    assert not any(allows(sleeping, perm) for perm in Perm)


def test_a_refusal_is_logged_without_patient_details(caplog):
    nurse = User(pk=41, role="nurse", is_active=True)
    with caplog.at_level(logging.WARNING, logger="anagen.access"), pytest.raises(PermissionDenied):
        require(nurse, Perm.PLAN_WRITE)
    (record,) = caplog.records
    assert record.user_id == 41 and record.role == "nurse" and record.action == "plan_write"


@pytest.mark.parametrize("name, service", services(), ids=[n for n, _ in services()])
def test_services_name_every_field_they_take(name, service):
    """No ``**fields``: a caller cannot set what the service does not list (e.g. an MRN)."""
    kinds = {p.kind for p in inspect.signature(service).parameters.values()}
    assert inspect.Parameter.VAR_KEYWORD not in kinds, f"{name} takes **kwargs"
    assert inspect.Parameter.VAR_POSITIONAL not in kinds, f"{name} takes *args"
