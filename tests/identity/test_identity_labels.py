"""Label rendering: SVG content, Code 128 payload, PDF."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta, timezone

import barcode
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from identity_code128 import decode_modules, modules_from_label_svg

from anagen.identity import (
    AUTOLOGOUS_WARNING,
    DonationId,
    LabelData,
    ProductId,
    barcode_modules,
    label_html,
    label_pdf,
    label_svg,
    make_donation_id,
    make_product_id,
)

SVG = "{http://www.w3.org/2000/svg}"
DONATION = make_donation_id("A9999", 2026, 123)
PRODUCT = make_product_id(DONATION, 2)


def make_label(identifier: DonationId | ProductId = PRODUCT, **changes: object) -> LabelData:
    fields: dict[str, object] = {
        "identifier": identifier,
        "patient_name": "DOE, Jane",
        "mrn": "MRN-000042",
        "date_of_birth": date(1980, 4, 1),
        "product_description": "SVF cell suspension, 5 mL",
        "expiry": datetime(2026, 11, 3, 18, 0),
        "facility_name": "Anagen Demo Clinic",
    }
    fields.update(changes)
    return LabelData(**fields)  # type: ignore[arg-type]


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)  # noqa: S314
    return ["".join(el.itertext()) for el in root.iter(f"{SVG}text")]


def test_svg_is_well_formed_and_sized() -> None:
    root = ET.fromstring(label_svg(make_label()))  # noqa: S314
    assert root.tag == f"{SVG}svg"
    assert (root.get("width"), root.get("height")) == ("100mm", "50mm")


def test_svg_contains_all_texts() -> None:
    all_text = "\n".join(texts(label_svg(make_label())))
    for expected in (
        AUTOLOGOUS_WARNING,
        "AUTOLOGOUS USE ONLY",
        PRODUCT.display,
        "DOE, Jane",
        "MRN-000042",
        "01 APR 1980",
        "SVF cell suspension, 5 mL",
        "03 NOV 2026 18:00",
        "Anagen Demo Clinic",
    ):
        assert expected in all_text, expected


def test_human_readable_identifier_has_check_character_boxed() -> None:
    svg = label_svg(make_label(DONATION))
    assert DONATION.display in texts(svg)
    assert DONATION.display.endswith(" " + DONATION.check)
    assert 'class="check-box"' in svg


def test_svg_contains_barcode_bars() -> None:
    svg = label_svg(make_label())
    root = ET.fromstring(svg)  # noqa: S314
    group = next(el for el in root.iter(f"{SVG}svg") if el.get("id") == "barcode")
    bars = list(group.iter(f"{SVG}rect"))
    assert len(bars) > 30
    modules, data = modules_from_label_svg(svg)
    assert data == PRODUCT.barcode_data
    # The bars are exactly python-barcode's Code 128 pattern.
    assert modules == barcode_modules(PRODUCT.barcode_data)


@pytest.mark.parametrize("identifier", [DONATION, PRODUCT])
def test_code128_encodes_exactly_the_identifier(identifier: DonationId | ProductId) -> None:
    # What python-barcode says it encodes ...
    assert barcode.get("code128", identifier.barcode_data).get_fullcode() == (
        identifier.barcode_data
    )
    # ... and what the bars actually say, read back by an independent decoder.
    modules, _ = modules_from_label_svg(label_svg(make_label(identifier)))
    assert decode_modules(modules) == identifier.barcode_data


ids = st.builds(
    make_donation_id,
    st.sampled_from(["A9999", "Z0000", "K1234"]),
    st.integers(0, 99),
    st.integers(1, 999_999),
)


@settings(max_examples=60, deadline=None)
@given(ids, st.one_of(st.none(), st.integers(1, 99)))
def test_barcode_round_trip_property(donation: DonationId, product: int | None) -> None:
    identifier = donation if product is None else make_product_id(donation, product)
    modules, _ = modules_from_label_svg(label_svg(make_label(identifier)))
    assert decode_modules(modules) == identifier.barcode_data


def test_user_text_is_escaped() -> None:
    svg = label_svg(make_label(patient_name="O'Brien <script>&amp;", mrn='1"2'))
    assert "<script>" not in svg
    assert "O'Brien <script>&amp;" in texts(svg)


def test_long_text_is_squeezed_to_fit() -> None:
    svg = label_svg(make_label(patient_name="X" * 120))
    root = ET.fromstring(svg)  # noqa: S314
    patient = next(el for el in root.iter(f"{SVG}text") if el.get("class") == "patient")
    assert float(patient.get("textLength", "0")) <= 100
    assert patient.get("lengthAdjust") == "spacingAndGlyphs"


def test_date_only_expiry_and_aware_datetime() -> None:
    assert "EXPIRES 04 NOV 2026" in texts(label_svg(make_label(expiry=date(2026, 11, 4))))
    aware = datetime(2026, 11, 4, 9, 5, tzinfo=timezone(timedelta(hours=1), "CET"))
    assert "EXPIRES 04 NOV 2026 09:05 CET" in texts(label_svg(make_label(expiry=aware)))


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"identifier": "A999926000123K"}, TypeError),
        ({"patient_name": "  "}, ValueError),
        ({"mrn": ""}, ValueError),
        ({"product_description": ""}, ValueError),
        ({"date_of_birth": "1980-04-01"}, TypeError),
        ({"date_of_birth": datetime(1980, 4, 1)}, TypeError),
        ({"expiry": "tomorrow"}, TypeError),
        ({"facility_name": None}, TypeError),
    ],
)
def test_label_data_validation(changes: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        make_label(**changes)


def test_pdf() -> None:
    pdf = label_pdf(make_label())
    assert pdf.startswith(b"%PDF")
    assert pdf.rstrip().endswith(b"%%EOF")


def test_pdf_layout_is_one_label_sized_page() -> None:
    from weasyprint import HTML

    document = HTML(string=label_html(make_label())).render()
    assert len(document.pages) == 1
    page = document.pages[0]
    # CSS px at 96/in: 100 mm x 50 mm
    assert page.width == pytest.approx(100 / 25.4 * 96, abs=0.01)
    assert page.height == pytest.approx(50 / 25.4 * 96, abs=0.01)
