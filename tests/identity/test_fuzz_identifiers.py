"""Fuzzing identifier parsing (``anagen.identity``): whatever a scanner or a keyboard sends.

Every text either parses to an identifier whose canonical text parses back to the same
identifier, or raises the documented ``InvalidIdentifier`` (a ``ValueError``) with a one-line
message that never reveals the expected check character; never another exception. The inputs
are arbitrary Unicode (including characters whose upper case is longer, like "ß" or "ﬃ",
control characters and other scripts' digits), valid identifiers with one character changed,
added or removed, and non-text values.
"""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from anagen.identity import (
    InvalidIdentifier,
    check_character,
    is_valid,
    make_donation_id,
    make_product_id,
    parse_donation_id,
    parse_product_id,
)

donations = st.builds(
    make_donation_id,
    st.builds(
        lambda letter, digits: letter + digits,
        st.sampled_from(string.ascii_uppercase),
        st.text(alphabet=string.digits, min_size=4, max_size=4),
    ),
    st.integers(2000, 2099),
    st.integers(1, 999_999),
)
SCANNER_NOISE = st.sampled_from([*" -\t\n\r\x00\u00a0\u2013ßﬃıİ٣３*", "", "01", "K"])


@st.composite
def near_identifiers(draw) -> str:
    """A valid donation or product identifier with a few characters changed/added/removed."""
    donation = draw(donations)
    text = (
        make_product_id(donation, draw(st.integers(1, 99))).text
        if draw(st.booleans())
        else donation.text
    )
    chars = list(text)
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["replace", "insert", "delete"]))
        at = draw(st.integers(0, max(0, len(chars) - 1)))
        if action == "delete" and chars:
            del chars[at]
        elif action == "insert":
            chars.insert(at, draw(st.one_of(SCANNER_NOISE, st.characters())))
        elif chars:
            chars[at] = draw(st.one_of(SCANNER_NOISE, st.characters()))
    return "".join(chars)


texts = st.one_of(st.text(max_size=40), near_identifiers())


def _refused_cleanly(error: InvalidIdentifier, text: str) -> None:
    message = str(error)
    assert message and "\n" not in message
    assert isinstance(error, ValueError)


@settings(max_examples=1000, deadline=None)
@given(texts, st.booleans())
def test_donation_parse_round_trips_or_refuses(text: str, require_check: bool) -> None:
    try:
        donation = parse_donation_id(text, require_check=require_check)
    except InvalidIdentifier as error:
        _refused_cleanly(error, text)
        return
    assert parse_donation_id(donation.text) == donation
    assert is_valid(donation.text)
    assert donation.text[-1] == check_character(donation.text[:-1])


@settings(max_examples=1000, deadline=None)
@given(texts, st.booleans())
def test_product_parse_round_trips_or_refuses(text: str, require_check: bool) -> None:
    try:
        product = parse_product_id(text, require_check=require_check)
    except InvalidIdentifier as error:
        _refused_cleanly(error, text)
        return
    assert parse_product_id(product.text) == product
    assert 1 <= product.product <= 99


@settings(max_examples=300, deadline=None)
@given(near_identifiers())
def test_a_wrong_check_character_never_names_the_right_one(text: str) -> None:
    try:
        parse_donation_id(text)
    except InvalidIdentifier as error:
        if "check" in str(error):
            compact = "".join(c for c in text.upper() if c not in " -\t")[:13]
            if len(compact) == 13 and compact.isascii() and compact.isalnum():
                try:
                    right = check_character(compact)
                except ValueError:
                    return
                assert f"'{right}'" not in str(error) and f"expected {right}" not in str(error)


@given(st.one_of(st.none(), st.integers(), st.binary(), st.lists(st.text()), st.floats()))
def test_non_text_is_refused_as_invalid(value: object) -> None:
    for parse in (parse_donation_id, parse_product_id):
        try:
            parse(value)  # type: ignore[arg-type]
        except InvalidIdentifier:
            continue
        raise AssertionError(f"{parse.__name__} accepted {value!r}")


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=30))
def test_check_character_and_is_valid_never_crash(text: str) -> None:
    assert is_valid(text) in (True, False)
    if not text:
        return
    try:
        char = check_character(text)
    except ValueError as error:
        assert "\n" not in str(error)
        return
    assert is_valid(text + char)
