"""Every clinic URL × every role: allowed pages answer, others are refused.

The URL list is read from the resolver, not written here, so a new page is walked automatically;
a page missing from ``policy.PAGES`` fails ``test_every_clinic_url_has_a_rule``. What each role may
do is checked against ``EXPECTED`` below, written by hand from the clinic's job descriptions and
independent of the policy module: a change to the policy must change this table too.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from anagen.clinic.accounts.policy import PAGES, PUBLIC
from anagen.clinic.accounts.roles import Role
from tests.clinic.world import build_world, clinic_url_names, url_for

#: P physician, N nurse, L lab technician, C coordinator, A auditor, D administrator,
#: R researcher (registry and its de-identified export only), B blinded photo reviewer.
ROLE_CODES = {
    Role.PHYSICIAN: "P",
    Role.NURSE: "N",
    Role.LAB_TECHNICIAN: "L",
    Role.COORDINATOR: "C",
    Role.AUDITOR: "A",
    Role.ADMINISTRATOR: "D",
    Role.RESEARCHER: "R",
    Role.REVIEWER: "B",
}
#: page → (roles that may read it, roles that may post to it).
EXPECTED = {
    "intake:home": ("PNLCAD", ""),
    "patients:list": ("PNLCAD", "PNLCAD"),
    "patients:create": ("PNCD", "PNCD"),
    "patients:chart": ("PNLCAD", ""),
    "patients:edit": ("PNCD", "PNCD"),
    "patients:photo": ("PNLCAD", ""),
    "intake:inquiries": ("CAD", ""),
    "intake:inquiry": ("CAD", "CD"),
    "intake:convert": ("CD", "CD"),
    "intake:day": ("PNLCAD", ""),
    "intake:week": ("PNLCAD", ""),
    "intake:appointment_new": ("PNCD", "PNCD"),
    "intake:appointment_status": ("", "PNCD"),
    "assessment:new": ("P", "P"),
    "assessment:detail": ("PNCA", ""),
    "assessment:override": ("P", "P"),
    "audit:patient": ("AD", ""),
    "audit:network": ("A", "A"),
    "treatment:plan_new": ("P", "P"),
    "treatment:plan": ("PNLCA", ""),
    "treatment:consent_sign": ("PN", "PN"),
    "treatment:consent_pdf": ("PNA", ""),
    "treatment:consent_withdraw": ("PN", "PN"),
    "treatment:harvest_new": ("P", "P"),
    "treatment:lab_bench": ("PLA", ""),
    "treatment:lab_home": ("PLA", ""),
    "treatment:cryo_inventory": ("PLA", ""),
    "treatment:lab_worklist": ("PLA", ""),
    "treatment:lab_worklist_pdf": ("PLA", ""),
    "treatment:expire_sweep": ("", "L"),
    "treatment:product": ("PNLA", ""),
    "treatment:product_results": ("", "L"),
    "treatment:product_release": ("", "L"),
    "treatment:product_store": ("", "L"),
    "treatment:product_thaw": ("", "L"),
    "treatment:product_discard": ("", "PL"),
    "treatment:product_split": ("", "L"),
    "treatment:label_pdf": ("L", ""),
    "treatment:label_svg": ("PNLA", ""),
    "treatment:session_new": ("P", "P"),
    "treatment:session": ("PNLA", ""),
    "treatment:aftercare_pdf": ("PN", ""),
    "treatment:adverse_event_new": ("PN", "PN"),
    "treatment:follow_ups": ("PNCD", ""),
    "treatment:follow_up_book": ("PNCD", "PNCD"),
    "imaging:visit_new": ("PN", "PN"),
    "imaging:target_site_new": ("PN", "PN"),
    "imaging:visit": ("PNA", "PN"),
    "imaging:trichoscopy": ("PNA", "PN"),
    "imaging:trichoscopy_retry": ("", "PN"),
    "imaging:trichoscopy_file": ("PNA", ""),
    "imaging:photo_file": ("PNA", ""),
    "progress:patient": ("PNA", ""),
    "progress:plot": ("PNA", ""),
    "progress:compare": ("PNA", ""),
    "progress:report": ("PN", ""),
    "registry:home": ("PAR", ""),
    "registry:plot": ("PAR", ""),
    "registry:compare": ("PAR", ""),
    "registry:compare_plot": ("PAR", ""),
    "registry:cohort_pdf": ("PAR", ""),
    "registry:expect": ("P", ""),
    "registry:export": ("R", ""),
    "registry:export_file": ("R", ""),
    # Blinded photographic review: the reviewer sees only the queue and anonymous pairs;
    # physicians offer a patient's photos for review.
    "review:queue": ("B", ""),
    "review:pair": ("B", "B"),
    "review:pair_image": ("B", ""),
    "review:pairs_create": ("", "P"),
    # FHIR import (issue 13): a physician registers patients and records assessments from it.
    "fhir_import:upload": ("P", "P"),
    "spreadsheets:import": ("P", "P"),
    # Patients' data rights: the administrator acts as the privacy officer.
    "privacy:export": ("D", "D"),
    "privacy:erase": ("D", "D"),
}


def may(role: str, name: str, method: str = "GET") -> bool:
    read, write = EXPECTED[name]
    return ROLE_CODES[role] in (read if method == "GET" else write)


def test_policy_matches_the_expected_table():
    from anagen.clinic.accounts.models import User

    for name in clinic_url_names():
        if name in PUBLIC:
            continue
        assert name in EXPECTED, f"add {name} to EXPECTED"
        for role in Role.values:
            user = User(role=role, is_active=True)
            for method in ("GET", "POST"):
                assert PAGES[name].allows(user, method) == may(role, name, method), (
                    name,
                    role,
                    method,
                )


def test_every_clinic_url_has_a_rule():
    missing = [n for n in clinic_url_names() if n not in PAGES and n not in PUBLIC]
    assert not missing, f"views without an access rule: {missing}"
    stale = [n for n in PAGES if n not in clinic_url_names()]
    assert not stale, f"rules for views that no longer exist: {stale}"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One full record set for the whole module (``tests.clinic.world.build_world``).

    Built once inside a transaction that is rolled back after the module's last test; each test
    runs in its own savepoint within it (pytest-django's ``db``), so whatever a test writes is
    undone before the next one, as with Django's ``TestCase.setUpTestData``.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture
def staff(world, db):
    return world["staff"]


@pytest.fixture
def objects(world, db):
    for record in world["objects"].values():
        record.refresh_from_db()
    return world["objects"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(Role.values))
def test_role_matrix_get(client, staff, objects, role):
    client.force_login(staff[role])
    for name in clinic_url_names():
        if name in PUBLIC:
            continue
        response = client.get(url_for(name, objects))
        if may(role, name):
            assert response.status_code == 200, (name, role, response.status_code)
        else:
            assert response.status_code in (403, 405), (name, role, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(Role.values))
def test_role_matrix_post_refused_without_write_right(client, staff, objects, role):
    client.force_login(staff[role])
    for name in clinic_url_names():
        if name in PUBLIC or may(role, name, "POST"):
            continue
        response = client.post(url_for(name, objects), {})
        assert response.status_code in (403, 405), (name, role, response.status_code)


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client, objects):
    for name in clinic_url_names():
        url = url_for(name, objects)
        response = client.get(url)
        if name in PUBLIC:
            assert response.status_code == 200, name
        else:
            assert response.status_code == 302, name
            assert response["Location"].startswith(reverse("account_login")), name


@pytest.mark.django_db
def test_auditor_is_read_only_and_sees_audit(client, staff, objects):
    client.force_login(staff[Role.AUDITOR])
    assert client.get(reverse("audit:patient", args=[objects["patient"].pk])).status_code == 200
    response = client.post(
        reverse("patients:edit", args=[objects["patient"].pk]), {"given_name": "Changed"}
    )
    assert response.status_code == 403
    objects["patient"].refresh_from_db()
    assert objects["patient"].given_name == "Ada"


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(Role.values))
def test_staff_only_see_their_sites_patients(client, objects, other_site, role):
    """Staff of another site get 404 (not 403) for every record of this site's patient."""
    from tests.clinic.conftest import make_user

    client.force_login(make_user(role, other_site))
    # Lists and the registry's cohort pages answer with this site's records left out (the
    # registry tests check that); the export file is a download of the same.
    lists = {
        reverse(n)
        for n in (
            "intake:home",
            "patients:list",
            "patients:create",
            "intake:inquiries",
            "intake:day",
            "intake:week",
            "treatment:lab_bench",
            "treatment:lab_home",
            "treatment:cryo_inventory",
            "treatment:lab_worklist",
            "treatment:lab_worklist_pdf",
            "treatment:follow_ups",
            "registry:home",
            "registry:plot",
            "registry:compare",
            "registry:compare_plot",
            "registry:cohort_pdf",
            "registry:export",
            "review:queue",
            "review:pairs_create",
            "audit:network",
            "fhir_import:upload",
            "spreadsheets:import",
        )
    }
    for name in clinic_url_names():
        url = url_for(name, objects)
        if name in PUBLIC or url in lists or name == "registry:export_file":
            continue
        allowed = may(role, name)
        assert client.get(url).status_code == (404 if allowed else 403), (name, role)
    if may(role, "audit:network"):
        log = client.get(reverse("audit:network")).content.decode()
        assert objects["patient"].mrn not in log
    if may(role, "patients:list"):
        listing = client.get(reverse("patients:list")).content.decode()
        assert objects["patient"].mrn not in listing
    if may(role, "treatment:lab_bench"):
        bench = client.get(reverse("treatment:lab_bench")).content.decode()
        assert objects["patient"].mrn not in bench
    for name in ("treatment:lab_home", "treatment:cryo_inventory", "treatment:lab_worklist"):
        if may(role, name):
            assert objects["patient"].mrn not in client.get(reverse(name)).content.decode(), name
    if may(role, "treatment:follow_ups"):
        due = client.get(reverse("treatment:follow_ups")).content.decode()
        assert objects["patient"].mrn not in due
    if may(role, "review:queue"):
        queue = client.get(reverse("review:queue")).content.decode()
        assert objects["pair"].token not in queue
    if may(role, "intake:day"):
        day = client.get(reverse("intake:day"), {"day": objects["appointment"].starts_at.date()})
        assert objects["patient"].full_name not in day.content.decode()
