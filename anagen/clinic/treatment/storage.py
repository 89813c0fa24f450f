"""Where a cryopreserved product sits: freezer → rack → box → position, read in one place.

``services.products.product_store`` normalises every location it writes through ``normalise``
(and refuses a position that is not on the box's grid); the cryo inventory reads positions back
through ``cell_of``. A box is a grid of ``BOX_ROWS`` × ``BOX_COLUMNS`` positions numbered row by
row from 1 (1 is A1, top left; 10 is B1). A position may be given as its number ("22") or as row
letter and column ("C4"); it is stored as its number. Freezer, rack and box are names, kept as
typed with runs of spaces collapsed, so " LN2  1 " and "LN2 1" are the same freezer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BOX_ROWS = 9
BOX_COLUMNS = 9
ROW_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[:BOX_ROWS]
POSITIONS = BOX_ROWS * BOX_COLUMNS

_CELL = re.compile(r"([A-Z])0*(\d{1,2})")


@dataclass(frozen=True)
class Location:
    """A normalised storage location (``position`` is the grid number, as text)."""

    freezer: str
    rack: str
    box: str
    position: str


def name(text: str) -> str:
    """A freezer, rack or box name as stored: trimmed, inner runs of spaces collapsed."""
    return " ".join(text.split())


def position_number(text: str) -> int | None:
    """The grid number (1 … ``POSITIONS``) of a position given as "22" or "C4"; None if it is
    not on the grid."""
    compact = "".join(text.split()).upper()
    if compact.isdecimal() and len(compact) <= 9:  # "²" is a digit int() refuses
        number = int(compact)
        return number if 1 <= number <= POSITIONS else None
    match = _CELL.fullmatch(compact)
    if match is None:
        return None
    row, column = ROW_LETTERS.find(match[1]), int(match[2])
    if row < 0 or not 1 <= column <= BOX_COLUMNS:
        return None
    return row * BOX_COLUMNS + column


def cell_of(number: int) -> tuple[int, int]:
    """(row, column), both from 0, of grid position ``number``."""
    return divmod(number - 1, BOX_COLUMNS)


def cell_label(number: int) -> str:
    """ "C4" for position 22."""
    row, column = cell_of(number)
    return f"{ROW_LETTERS[row]}{column + 1}"


def normalise(*, freezer: str, rack: str, box: str, position: str) -> Location | None:
    """The location as stored, or None when a part is missing or the position is off the grid."""
    location = Location(name(freezer), name(rack), name(box), "")
    number = position_number(position)
    if not (location.freezer and location.rack and location.box) or number is None:
        return None
    return Location(location.freezer, location.rack, location.box, str(number))


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort "rack 2" before "rack 10"."""
    return tuple(
        (0, int(piece)) if piece.isdecimal() and len(piece) <= 18 else (1, piece.casefold())
        for piece in re.split(r"(\d+)", text)
        if piece
    )
