"""Donation and product identifiers."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anagen.identity import (
    DonationId,
    InvalidIdentifier,
    ProductId,
    check_character,
    make_donation_id,
    make_product_id,
    parse_donation_id,
    parse_product_id,
)

facilities = st.builds(
    lambda letter, digits: letter + digits,
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
)
donations = st.builds(make_donation_id, facilities, st.integers(0, 99), st.integers(1, 999_999))


def test_make_donation_id_matches_published_vector() -> None:
    donation = make_donation_id("A9999", 21, 123456)
    assert donation.code == "A999921123456"
    assert donation.check == "3"
    assert donation.display == "A9999 21 123456 3"
    assert donation.barcode_data == "A9999211234563"
    assert donation.text == "A9999211234563"
    assert (donation.facility, donation.year, donation.sequence) == ("A9999", 21, 123456)
    assert str(donation) == donation.display


def test_four_digit_year_and_lowercase_facility() -> None:
    assert make_donation_id("a9999", 2026, 123) == make_donation_id("A9999", 26, 123)
    assert make_donation_id("A9999", 2026, 123).code == "A999926000123"


def test_donation_id_is_frozen() -> None:
    donation = make_donation_id("A9999", 26, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        donation.check = "X"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("facility", "year", "sequence", "message"),
    [
        ("ABCDE", 26, 1, "facility code"),
        ("A999", 26, 1, "facility code"),
        ("9A999", 26, 1, "facility code"),
        ("A99999", 26, 1, "facility code"),
        ("", 26, 1, "facility code"),
        ("A9999", 100, 1, "year"),
        ("A9999", 1999, 1, "year"),
        ("A9999", -1, 1, "year"),
        ("A9999", True, 1, "year"),
        ("A9999", 26, 0, "sequence"),
        ("A9999", 26, 1_000_000, "sequence"),
        ("A9999", 26, "12", "sequence"),
    ],
)
def test_make_donation_id_rejects_bad_parts(
    facility: str, year: int, sequence: int, message: str
) -> None:
    with pytest.raises(InvalidIdentifier, match=message):
        make_donation_id(facility, year, sequence)


def test_invalid_identifier_is_a_value_error() -> None:
    assert issubclass(InvalidIdentifier, ValueError)


def test_constructing_with_a_wrong_check_fails() -> None:
    with pytest.raises(InvalidIdentifier, match="does not match"):
        DonationId(code="A999921123456", check="4")


@pytest.mark.parametrize(
    "text",
    [
        "A9999 21 123456 3",
        "A9999211234563",
        "a9999-21-123456-3",
        "  a9999 21 123456 3\n",
    ],
)
def test_parse_accepts_spaces_dashes_lowercase(text: str) -> None:
    assert parse_donation_id(text) == make_donation_id("A9999", 21, 123456)


def test_parse_check_optional() -> None:
    expected = make_donation_id("A9999", 21, 123456)
    assert parse_donation_id("A9999 21 123456", require_check=False) == expected
    assert parse_donation_id("A9999 21 123456 3", require_check=False) == expected


@pytest.mark.parametrize(
    ("text", "require_check", "message"),
    [
        ("", True, "empty"),
        ("A9999 21 123456", True, "check character may be missing"),
        ("A9999 21 12345 3", True, "must have 14 characters"),
        ("A9999 21 1234567 3", True, "must have 14 characters"),
        ("A9999 21 12345", False, "must have 13 or 14 characters"),
        ("AB999 21 123456 3", True, "facility code"),
        ("19999 21 123456 3", True, "facility code"),
        ("A9999 2X 123456 3", True, "year"),
        ("A9999 21 12345X 3", True, "sequence"),
        ("A9999 21 000000", False, "sequence"),
        ("A9999 21 123456 4", True, "does not match"),
        ("A9999 21 123456 4", False, "does not match"),
        ("A9999 21 123456 #", True, "invalid"),
        ("A9999 21 123456 3 01", True, "must have 14 characters"),
    ],
)
def test_parse_errors(text: str, require_check: bool, message: str) -> None:
    with pytest.raises(InvalidIdentifier, match=message):
        parse_donation_id(text, require_check=require_check)


def test_wrong_check_message_does_not_reveal_expected_character() -> None:
    # Every wrong check character for this code: the message never names the right one.
    code = "A999921123456"
    for wrong in "0124567890ABCDEFGHIJKLMNOPQRSTUVWXYZ*":
        if wrong == "3":
            continue
        with pytest.raises(InvalidIdentifier) as info:
            parse_donation_id(code + wrong)
        message = str(info.value)
        assert "'3'" not in message
        assert "expected '3'" not in message
        assert not message.rstrip().endswith("3")


def test_parse_rejects_non_text() -> None:
    with pytest.raises(InvalidIdentifier, match="text"):
        parse_donation_id(123)  # type: ignore[arg-type]


@given(donations)
def test_display_and_text_round_trip(donation: DonationId) -> None:
    assert parse_donation_id(donation.display) == donation
    assert parse_donation_id(donation.text.lower()) == donation
    assert parse_donation_id(donation.barcode_data) == donation
    assert check_character(donation.code) == donation.check
    assert len(donation.code) == 13


# --- products --------------------------------------------------------------------------


def test_product_suffix() -> None:
    donation = make_donation_id("A9999", 26, 123)
    product = make_product_id(donation, 1)
    assert product.suffix == "01"
    assert product.display == f"{donation.display}-01"
    assert product.text == f"{donation.text}-01"
    assert product.barcode_data == product.text
    assert (product.code, product.check) == (donation.code, donation.check)
    assert make_product_id(donation, 42).suffix == "42"


@pytest.mark.parametrize("number", [0, 100, -1, True, 1.0, "01"])
def test_product_number_range(number: object) -> None:
    with pytest.raises(InvalidIdentifier, match="product number"):
        make_product_id(make_donation_id("A9999", 26, 123), number)  # type: ignore[arg-type]


def test_product_requires_donation() -> None:
    with pytest.raises(InvalidIdentifier, match="DonationId"):
        ProductId(donation="A999926000123", product=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "require_check"),
    [
        ("A9999 21 123456 3-01", True),
        ("a9999211234563-01", True),
        ("A999921123456301", True),
        ("A9999 21 123456-01", False),
        ("A9999 21 123456 3-01", False),
    ],
)
def test_parse_product(text: str, require_check: bool) -> None:
    product = parse_product_id(text, require_check=require_check)
    assert product == make_product_id(make_donation_id("A9999", 21, 123456), 1)


@pytest.mark.parametrize(
    ("text", "require_check", "message"),
    [
        ("A9999 21 123456 3-00", True, "suffix"),
        ("A9999 21 123456 3-0A", True, "suffix"),
        ("A9999 21 123456-01", True, "check character may be missing"),
        ("A9999 21 123456 4-01", True, "does not match"),
        ("A9999 21 123456 3-1", True, "must have 16 characters"),
        ("A9999 21 123456 3-001", True, "must have 16 characters"),
        ("A9999 21 123456 3", False, "must have 15 or 16 characters"),
    ],
)
def test_parse_product_errors(text: str, require_check: bool, message: str) -> None:
    with pytest.raises(InvalidIdentifier, match=message):
        parse_product_id(text, require_check=require_check)


@given(donations, st.integers(1, 99))
def test_product_round_trip(donation: DonationId, number: int) -> None:
    product = make_product_id(donation, number)
    assert parse_product_id(product.display) == product
    assert parse_product_id(product.barcode_data) == product
