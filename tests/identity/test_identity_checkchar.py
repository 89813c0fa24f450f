"""ISO 7064 MOD 37-2 check character."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anagen.identity import ALPHABET, char_value, check_character, is_valid

data_text = st.text(alphabet=ALPHABET, min_size=1, max_size=30)


@pytest.mark.parametrize(
    ("data", "check"),
    [("A999921123456", "3"), ("ABCDE27000069", "C")],
)
def test_published_vectors(data: str, check: str) -> None:
    assert check_character(data) == check
    assert is_valid(data + check)


# Worked by hand-written MOD 37-2 arithmetic before it was replaced by python-stdnum, and
# cross-checked against it on every string of up to 3 characters: a check of '*' (value 36)
# and '*' inside the data are where an alphabet mismatch would show.
@pytest.mark.parametrize(
    ("data", "check"),
    [("A999926000088", "*"), ("W1234*", "Y"), ("*", "3"), ("", "1")],
)
def test_isbt128_star_vectors(data: str, check: str) -> None:
    assert check_character(data) == check
    if data:
        assert is_valid(data + check)


def test_alphabet_values() -> None:
    assert len(ALPHABET) == 37
    assert char_value("0") == 0
    assert char_value("Z") == 35
    assert char_value("*") == 36


@pytest.mark.parametrize("bad", ["a", "-", " ", "É", "#"])
def test_rejects_characters_outside_the_set(bad: str) -> None:
    with pytest.raises(ValueError, match="not allowed"):
        check_character("A" + bad)
    assert not is_valid("A" + bad + "0")


@pytest.mark.parametrize("text", ["", "3", "A999921123456 3"])
def test_is_valid_rejects_short_or_malformed(text: str) -> None:
    assert not is_valid(text)


@given(data_text)
def test_appended_check_is_valid(data: str) -> None:
    assert is_valid(data + check_character(data))


@given(data_text)
def test_every_single_substitution_is_detected(data: str) -> None:
    full = data + check_character(data)
    for position in range(len(full)):
        for replacement in ALPHABET:
            if replacement == full[position]:
                continue
            mutated = full[:position] + replacement + full[position + 1 :]
            assert not is_valid(mutated), (full, mutated)


@given(data_text)
def test_every_adjacent_transposition_is_detected(data: str) -> None:
    full = data + check_character(data)
    for i in range(len(full) - 1):
        if full[i] == full[i + 1]:
            continue
        swapped = full[:i] + full[i + 1] + full[i] + full[i + 2 :]
        assert not is_valid(swapped), (full, swapped)
