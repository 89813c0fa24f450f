"""ISO/IEC 7064 MOD 37-2 check characters over the ISBT-128 character set.

The character set is ``0-9`` (values 0-9), ``A-Z`` (values 10-35) and ``*`` (value 36).
MOD 37-2 is a *pure* system (modulus 37, radix 2) that appends one check character.
Because 37 is prime and every weight is a power of 2 (never 0 mod 37), it detects every
single-character substitution and every transposition of two adjacent characters,
including a transposition of the last data character with the check character.
"""

from __future__ import annotations

__all__ = [
    "ALPHABET",
    "MODULUS",
    "char_value",
    "check_character",
    "is_valid",
]

ALPHABET: str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
"""The 37 characters of the check system, in value order."""

MODULUS: int = 37
_RADIX: int = 2
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
    p = 0
    for char in data:
        p = ((p + char_value(char)) * _RADIX) % MODULUS
    return ALPHABET[(MODULUS + 1 - p) % MODULUS]


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
    if len(text) < 2 or any(c not in _VALUES for c in text):
        return False
    # Pure system: sum of value * radix**position (check char at position 0) == 1 mod 37.
    total = 0
    for char in text:
        total = (total * _RADIX + _VALUES[char]) % MODULUS
    return total == 1
