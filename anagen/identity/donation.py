"""ISBT-128-shaped donation identifiers and product (aliquot) identifiers.

A donation identifier has 13 characters — facility code (one uppercase letter and four
digits, e.g. ``A9999``), two-digit year and six-digit sequence — followed by an
ISO 7064 MOD 37-2 check character. It is *shaped like* an ISBT 128 donation
identification number but uses no ICCBBA tables (ISBT 128 itself is licensed).

Products derived from one donation (aliquots, the SVF product, a cryo-stored fraction)
carry a two-digit product suffix ``01``-``99``: ``A9999 26 000123 K-01``.

Barcodes carry the compact identifier *including* its check character
(``A999926000123K`` / ``A999926000123K-01``), so that a scanned value and a keyed value
go through the same parser and are verified the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from anagen.identity.checkchar import ALPHABET, check_character

__all__ = [
    "DonationId",
    "InvalidIdentifier",
    "ProductId",
    "make_donation_id",
    "make_product_id",
    "normalize_identifier_text",
    "parse_donation_id",
    "parse_product_id",
]

CODE_LENGTH = 13
_FACILITY_RE = re.compile(r"[A-Z][0-9]{4}")
_CODE_RE = re.compile(r"(?P<facility>[A-Z][0-9]{4})(?P<year>[0-9]{2})(?P<sequence>[0-9]{6})")
_SEPARATORS = re.compile(r"[\s\-]+")
MAX_SEQUENCE = 999_999
MAX_PRODUCT = 99


class InvalidIdentifier(ValueError):
    """An identifier text or its parts are malformed or fail the check character."""


def normalize_identifier_text(text: str) -> str:
    """Uppercase ``text`` and drop spaces, tabs and dashes.

    Parameters
    ----------
    text : str
        As typed or scanned, e.g. ``"a9999-26-000123 k"``.

    Returns
    -------
    str
        E.g. ``"A999926000123K"``.
    """
    if not isinstance(text, str):
        raise InvalidIdentifier(f"identifier must be text, got {type(text).__name__}")
    return _SEPARATORS.sub("", text).upper()


def _validate_code(code: str) -> re.Match[str]:
    if len(code) != CODE_LENGTH:
        raise InvalidIdentifier(
            f"donation identifier must have {CODE_LENGTH} characters before the check "
            f"character, got {len(code)}"
        )
    facility = code[:5]
    if not _FACILITY_RE.fullmatch(facility):
        raise InvalidIdentifier(
            f"facility code {facility!r} is invalid: expected one letter A-Z and four digits"
        )
    if not code[5:7].isdigit() or not code[5:7].isascii():
        raise InvalidIdentifier(f"year {code[5:7]!r} is invalid: expected two digits")
    match = _CODE_RE.fullmatch(code)
    if match is None:
        raise InvalidIdentifier(f"sequence {code[7:]!r} is invalid: expected six digits")
    if int(match["sequence"]) == 0:
        raise InvalidIdentifier("sequence 000000 is not allowed: sequences start at 000001")
    return match


@dataclass(frozen=True, slots=True)
class DonationId:
    """A donation identifier with its check character.

    Parameters
    ----------
    code : str
        The 13 characters: facility (``A9999``), year (``26``), sequence (``000123``).
    check : str
        The ISO 7064 MOD 37-2 check character of ``code``.

    Raises
    ------
    InvalidIdentifier
        If ``code`` is malformed or ``check`` does not match it.
    """

    code: str
    check: str

    def __post_init__(self) -> None:
        _validate_code(self.code)
        if len(self.check) != 1 or self.check not in ALPHABET:
            raise InvalidIdentifier(
                f"check character {self.check!r} is invalid: expected one of 0-9, A-Z, '*'"
            )
        if check_character(self.code) != self.check:
            raise InvalidIdentifier(
                f"check character {self.check!r} does not match identifier {self.code}"
            )

    @property
    def facility(self) -> str:
        """Facility code, e.g. ``"A9999"``."""
        return self.code[:5]

    @property
    def year(self) -> int:
        """Two-digit year, e.g. ``26``."""
        return int(self.code[5:7])

    @property
    def sequence(self) -> int:
        """Sequence number within facility and year."""
        return int(self.code[7:])

    @property
    def text(self) -> str:
        """Compact form with check character, e.g. ``"A999926000123K"``."""
        return self.code + self.check

    @property
    def display(self) -> str:
        """Human-readable form, e.g. ``"A9999 26 000123 K"``."""
        return f"{self.code[:5]} {self.code[5:7]} {self.code[7:]} {self.check}"

    @property
    def barcode_data(self) -> str:
        """The exact string to encode in a Code 128 barcode (same as :attr:`text`)."""
        return self.text

    def __str__(self) -> str:
        return self.display


@dataclass(frozen=True, slots=True)
class ProductId:
    """A product derived from a donation: donation identifier plus product suffix.

    Parameters
    ----------
    donation : DonationId
        The donation the product was made from.
    product : int
        Product number, 1-99 (rendered ``01``-``99``).
    """

    donation: DonationId
    product: int

    def __post_init__(self) -> None:
        if not isinstance(self.donation, DonationId):
            raise InvalidIdentifier("donation must be a DonationId")
        if (
            isinstance(self.product, bool)
            or not isinstance(self.product, int)
            or not 1 <= self.product <= MAX_PRODUCT
        ):
            raise InvalidIdentifier(
                f"product number must be an integer from 1 to {MAX_PRODUCT}, got {self.product!r}"
            )

    @property
    def suffix(self) -> str:
        """Two-digit product suffix, e.g. ``"01"``."""
        return f"{self.product:02d}"

    @property
    def code(self) -> str:
        """The donation's 13-character code."""
        return self.donation.code

    @property
    def check(self) -> str:
        """The donation's check character (the suffix is not covered by it)."""
        return self.donation.check

    @property
    def text(self) -> str:
        """Compact form, e.g. ``"A999926000123K-01"``."""
        return f"{self.donation.text}-{self.suffix}"

    @property
    def display(self) -> str:
        """Human-readable form, e.g. ``"A9999 26 000123 K-01"``."""
        return f"{self.donation.display}-{self.suffix}"

    @property
    def barcode_data(self) -> str:
        """The exact string to encode in a Code 128 barcode (same as :attr:`text`)."""
        return self.text

    def __str__(self) -> str:
        return self.display


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidIdentifier(f"{name} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise InvalidIdentifier(f"{name} must be from {low} to {high}, got {value}")
    return value


def make_donation_id(facility: str, year: int, sequence: int) -> DonationId:
    """Build a donation identifier and compute its check character.

    Parameters
    ----------
    facility : str
        One uppercase letter and four digits, e.g. ``"A9999"`` (lowercase accepted).
    year : int
        Two-digit year 0-99, or a four-digit year 2000-2099 (its last two digits are used).
    sequence : int
        1-999999.

    Returns
    -------
    DonationId

    Raises
    ------
    InvalidIdentifier
        If any part is out of range.

    Examples
    --------
    >>> make_donation_id("A9999", 2021, 123456).display
    'A9999 21 123456 3'
    """
    if not isinstance(facility, str) or not _FACILITY_RE.fullmatch(facility.upper()):
        raise InvalidIdentifier(
            f"facility code {facility!r} is invalid: expected one letter A-Z and four digits"
        )
    if isinstance(year, int) and not isinstance(year, bool) and 2000 <= year <= 2099:
        year -= 2000
    _check_int("year", year, 0, 99)
    _check_int("sequence", sequence, 1, MAX_SEQUENCE)
    code = f"{facility.upper()}{year:02d}{sequence:06d}"
    return DonationId(code=code, check=check_character(code))


def make_product_id(donation: DonationId, product: int) -> ProductId:
    """Identify product number ``product`` (1-99) derived from ``donation``.

    Parameters
    ----------
    donation : DonationId
    product : int
        1-99.

    Returns
    -------
    ProductId
    """
    return ProductId(donation=donation, product=product)


def _parse_donation_compact(compact: str, require_check: bool) -> DonationId:
    if len(compact) == CODE_LENGTH:
        if require_check:
            raise InvalidIdentifier(
                f"donation identifier must have {CODE_LENGTH + 1} characters (ignoring "
                f"spaces and dashes), got {CODE_LENGTH}: the check character may be missing"
            )
        _validate_code(compact)
        return DonationId(code=compact, check=check_character(compact))
    if len(compact) == CODE_LENGTH + 1:
        code, check = compact[:CODE_LENGTH], compact[CODE_LENGTH]
        _validate_code(code)
        if check not in ALPHABET:
            raise InvalidIdentifier(
                f"check character {check!r} is invalid: expected one of 0-9, A-Z, '*'"
            )
        if check_character(code) != check:
            raise InvalidIdentifier(
                f"check character {check!r} does not match identifier {code}: "
                "the identifier was probably mistyped"
            )
        return DonationId(code=code, check=check)
    expected = f"{CODE_LENGTH + 1}" if require_check else f"{CODE_LENGTH} or {CODE_LENGTH + 1}"
    raise InvalidIdentifier(
        f"donation identifier must have {expected} characters "
        f"(ignoring spaces and dashes), got {len(compact)}"
    )


def parse_donation_id(text: str, *, require_check: bool = True) -> DonationId:
    """Parse a typed or scanned donation identifier.

    Spaces and dashes are ignored and letters may be lowercase, so
    ``"A9999 26 000123 K"``, ``"a9999-26-000123-k"`` and ``"A999926000123K"`` are equal.

    Parameters
    ----------
    text : str
        The identifier.
    require_check : bool, default True
        If true the check character must be present (and match). If false it may be
        omitted (it is then computed), but if present it must still match.

    Returns
    -------
    DonationId

    Raises
    ------
    InvalidIdentifier
        For a wrong length, a bad facility code, year or sequence, a missing (when
        required) or non-matching check character. The message never reveals the
        expected check character.
    """
    compact = normalize_identifier_text(text)
    if not compact:
        raise InvalidIdentifier("identifier is empty")
    return _parse_donation_compact(compact, require_check)


def parse_product_id(text: str, *, require_check: bool = True) -> ProductId:
    """Parse a donation identifier followed by a two-digit product suffix.

    Accepts e.g. ``"A9999 26 000123 K-01"``, ``"a999926000123k01"`` and, with
    ``require_check=False``, ``"A999926000123-01"``.

    Parameters
    ----------
    text : str
    require_check : bool, default True
        As for :func:`parse_donation_id`.

    Returns
    -------
    ProductId

    Raises
    ------
    InvalidIdentifier
        As for :func:`parse_donation_id`, or if the suffix is not ``01``-``99``.
    """
    compact = normalize_identifier_text(text)
    if require_check and len(compact) == CODE_LENGTH + 2:
        raise InvalidIdentifier(
            f"product identifier must have {CODE_LENGTH + 3} characters (ignoring spaces "
            f"and dashes), got {CODE_LENGTH + 2}: the check character may be missing"
        )
    if len(compact) not in (CODE_LENGTH + 2, CODE_LENGTH + 3):
        expected = (
            f"{CODE_LENGTH + 3}" if require_check else f"{CODE_LENGTH + 2} or {CODE_LENGTH + 3}"
        )
        raise InvalidIdentifier(
            f"product identifier must have {expected} characters "
            f"(ignoring spaces and dashes), got {len(compact)}"
        )
    suffix = compact[-2:]
    if not (suffix.isascii() and suffix.isdigit()) or suffix == "00":
        raise InvalidIdentifier(f"product suffix {suffix!r} is invalid: expected 01-99")
    donation = _parse_donation_compact(compact[:-2], require_check)
    return ProductId(donation=donation, product=int(suffix))
