"""The cryo inventory: one product per freezer position (the store service's rule), the position
parser it relies on (storage.py), and the freezer → rack → box → position grid page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from anagen.clinic.accounts.roles import Role
from anagen.clinic.treatment import selectors, services, storage
from anagen.clinic.treatment.error_codes import TreatmentErrorCode as Code
from anagen.clinic.treatment.models import CellProduct
from tests.clinic.factories import PatientFactory, staff_at
from tests.clinic.refusals import refused
from tests.clinic.treatment_helpers import consented_plan, make_candidate, released_product

# --- the parser: one place that says which cell a position names ---------------------------

cells = st.integers(1, storage.POSITIONS)


def spellings(number: int) -> st.SearchStrategy[str]:
    """Ways a technician may type position ``number``: "22", "022", "C4", " c 04 "."""
    label = storage.cell_label(number)
    return st.sampled_from(
        [str(number), f"0{number}", label, label.lower(), f" {label[0]} 0{label[1:]} "]
    )


@given(st.data(), cells, cells)
def test_spellings_of_one_cell_name_one_cell_and_other_cells_differ(data, a, b):
    first = data.draw(spellings(a))
    second = data.draw(spellings(b))
    assert storage.position_number(first) == a
    assert (storage.position_number(first) == storage.position_number(second)) == (a == b)
    row, column = storage.cell_of(a)
    assert 0 <= row < storage.BOX_ROWS and 0 <= column < storage.BOX_COLUMNS


@pytest.mark.parametrize("text", ["0", "82", "J1", "A0", "A10", "", "A", "1A", "top left"])
def test_positions_off_the_grid_do_not_parse(text):
    assert storage.position_number(text) is None
    assert storage.normalise(freezer="LN2", rack="A", box="1", position=text) is None


def test_a_location_is_stored_normalised():
    location = storage.normalise(freezer=" LN2   1 ", rack=" A ", box="3", position="c4")
    assert location == storage.Location("LN2 1", "A", "3", "22")


# --- the rule, refused by the service -------------------------------------------------------


def _released(physician, nurse, lab, site, name):
    patient = PatientFactory(site=site, family_name=name)
    make_candidate(physician, patient)
    return released_product(physician, lab, consented_plan(physician, nurse, patient))


def _store(lab, product, position, **where):
    location = {"freezer": "LN2", "rack": "A", "box": "1", **where}
    return services.product_store(
        actor=lab,
        product=product,
        position=position,
        expires_at=timezone.now() + timedelta(days=365),
        **location,
    )


@pytest.fixture
def two_products(team, site):
    physician, nurse, lab = team
    return (
        lab,
        _released(physician, nurse, lab, site, "Quill"),
        _released(physician, nurse, lab, site, "Wren"),
    )


@pytest.mark.parametrize("second_spelling", ["22", "C4", " c4 ", "022"])
def test_a_second_product_in_an_occupied_position_is_refused(two_products, second_spelling):
    lab, first, second = two_products
    _store(lab, first, "C4")
    refused(
        Code.POSITION_OCCUPIED,
        _store,
        lab,
        second,
        second_spelling,
        freezer=" LN2 ",  # the same freezer, typed with spaces
    )
    second.refresh_from_db()
    assert second.status == CellProduct.Status.RELEASED and not second.freezer
    first.refresh_from_db()
    assert (first.freezer, first.rack, first.box, first.position) == ("LN2", "A", "1", "22")


def test_a_position_off_the_grid_is_refused(two_products):
    lab, first, _ = two_products
    for position in ("0", "82", "Z9", "shelf"):
        refused(Code.INVALID_POSITION, _store, lab, first, position)
    first.refresh_from_db()
    assert first.status == CellProduct.Status.RELEASED


def test_a_thawed_product_frees_its_position_and_another_box_is_free(two_products):
    lab, first, second = two_products
    _store(lab, first, "5")
    _store(lab, second, "5", box="2")  # same position, another box
    services.product_thaw(actor=lab, product=first)
    services.product_thaw(actor=lab, product=second)
    moved = _store(lab, CellProduct.objects.get(pk=second.pk), "5")  # box 1, position 5: free
    assert (moved.box, moved.position, moved.status) == ("1", "5", CellProduct.Status.STORED)


def test_another_sites_freezer_of_the_same_name_is_another_freezer(team, site, other_site):
    physician, nurse, lab = team
    here = _released(physician, nurse, lab, site, "Quill")
    _store(lab, here, "1")
    there_staff = staff_at(other_site)
    there = _released(
        there_staff[Role.PHYSICIAN],
        there_staff[Role.NURSE],
        there_staff[Role.LAB_TECHNICIAN],
        other_site,
        "Fenn",
    )
    stored = _store(there_staff[Role.LAB_TECHNICIAN], there, "1")
    assert stored.status == CellProduct.Status.STORED


# --- the grid page ----------------------------------------------------------------------------


def test_the_grid_shows_occupied_and_empty_positions_of_the_users_sites_only(
    client, team, site, other_site
):
    physician, nurse, lab = team
    here = _released(physician, nurse, lab, site, "Quill")
    _store(lab, here, "B3", freezer="Tank 2", rack="10", box="4")
    there_staff = staff_at(other_site)
    there = _released(
        there_staff[Role.PHYSICIAN],
        there_staff[Role.NURSE],
        there_staff[Role.LAB_TECHNICIAN],
        other_site,
        "Fenn",
    )
    _store(there_staff[Role.LAB_TECHNICIAN], there, "B3", freezer="Tank 9")

    inventory = selectors.cryo_inventory(user=lab)
    [freezer] = inventory.freezers
    assert (freezer.name, freezer.racks[0].name, freezer.racks[0].boxes[0].name) == (
        "Tank 2",
        "10",
        "4",
    )
    box = freezer.racks[0].boxes[0]
    flat = [cell for _, row in box.rows for cell in row]
    assert len(flat) == storage.POSITIONS and [c.number for c in flat] == list(range(1, 82))
    occupied = [c for c in flat if c.product]
    assert [(c.label, c.product.pk) for c in occupied] == [("B3", here.pk)]

    client.force_login(lab)
    page = client.get(reverse("treatment:cryo_inventory")).content.decode()
    assert here.product_code in page and here.patient.mrn in page
    assert page.count('class="empty"') == storage.POSITIONS - 1
    assert there.product_code not in page and "Tank 9" not in page


def test_search_by_product_code_narrows_to_the_box_and_marks_the_cell(client, two_products):
    lab, first, second = two_products
    _store(lab, first, "1")
    _store(lab, second, "1", box="2")
    inventory = selectors.cryo_inventory(user=lab, query=second.product_code.lower())
    assert [p.pk for p in inventory.matches] == [second.pk]
    boxes = [b for f in inventory.freezers for r in f.racks for b in r.boxes]
    assert [b.name for b in boxes] == ["2"]
    assert [c.product.pk for _, row in boxes[0].rows for c in row if c.match] == [second.pk]
    client.force_login(lab)
    page = client.get(reverse("treatment:cryo_inventory"), {"q": "no-such-code"})
    assert "No stored product matches" in page.content.decode()


def test_a_legacy_position_off_the_grid_is_listed_not_hidden(two_products):
    lab, first, _ = two_products
    _store(lab, first, "1")
    CellProduct.objects.filter(pk=first.pk).update(position="shelf 3")  # recorded before checks
    [box] = [
        b for f in selectors.cryo_inventory(user=lab).freezers for r in f.racks for b in r.boxes
    ]
    assert [p.pk for p in box.off_grid] == [first.pk]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.LAB_TECHNICIAN, 200),
        (Role.PHYSICIAN, 200),
        (Role.AUDITOR, 200),
        (Role.NURSE, 403),
        (Role.COORDINATOR, 403),
    ],
)
def test_who_may_open_the_inventory(client, staff, role, status):
    client.force_login(staff[role])
    assert client.get(reverse("treatment:cryo_inventory")).status_code == status
