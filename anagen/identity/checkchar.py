"""ISO/IEC 7064 MOD 37-2 check characters over the ISBT-128 character set.

The character set is ``0-9`` (values 0-9), ``A-Z`` (values 10-35) and ``*`` (value 36).
MOD 37-2 is a *pure* system (modulus 37, radix 2) that appends one check character.
Because 37 is prime and every weight is a power of 2 (never 0 mod 37), it detects every
single-character substitution and every transposition of two adjacent characters,
including a transposition of the last data character with the check character.

The arithmetic is :mod:`stdnum.iso7064.mod_37_2`; this module adds the ISBT-128 rules
around it: an explicit alphabet, clear errors for characters outside the set, and no
one-character "codes".
"""

from __future__ import annotations

from stdnum.iso7064 import mod_37_2

__all__ = [
    "ALPHABET",
    "MODULUS",
    "char_value",
    "check_character",
    "is_valid",
]

ALPHABET: str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
"""The 37 characters of the check system, in value order."""

MODULUS: int = len(ALPHABET)
_VALUES: dict[str, int] = {c: i for i, c in enumerate(ALPHABET)}


def char_value(char: str) -> int:
    """Return the MOD 37-2 value of one character.

    Parameters
    ----------
    char : str
        One character from :data:`ALPHABET` (uppercase letters only).

    Returns
    -------
    int
        The value, 0-36.

    Raises
    ------
    ValueError
        If ``char`` is not in the character set.
    """
    try:
        return _VALUES[char]
    except KeyError:
        raise ValueError(f"character {char!r} is not allowed (allowed: 0-9, A-Z and '*')") from None


def check_character(data: str) -> str:
    """Compute the ISO 7064 MOD 37-2 check character of ``data``.

    Parameters
    ----------
    data : str
        The characters to protect, from :data:`ALPHABET` (uppercase). May be empty.

    Returns
    -------
    str
        One character of :data:`ALPHABET`.

    Raises
    ------
    ValueError
        If ``data`` contains a character outside the set.

    Examples
    --------
    >>> check_character("A999921123456")
    '3'
    >>> check_character("ABCDE27000069")
    'C'
    """
    for char in data:
        char_value(char)  # our error message, not str.index's "substring not found"
    # The alphabet is passed explicitly so '*' = 36 is ours, not a library default.
    return mod_37_2.calc_check_digit(data, alphabet=ALPHABET)


def is_valid(text: str) -> bool:
    """Tell whether ``text`` (data followed by its check character) is consistent.

    Parameters
    ----------
    text : str
        Data characters with the MOD 37-2 check character appended, uppercase.

    Returns
    -------
    bool
        ``True`` if the check character matches. Texts shorter than two characters or
        containing characters outside the set are not valid.
    """
    # stdnum accepts a lone check character (e.g. "1"); an identifier needs data too.
    if len(text) < 2 or any(c not in _VALUES for c in text):
        return False
    return mod_37_2.is_valid(text, alphabet=ALPHABET)
