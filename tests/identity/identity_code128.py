"""An independent Code 128 decoder for tests (bar pattern → text, checksum verified)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from barcode.charsets.code128 import CODES

_SVG = "{http://www.w3.org/2000/svg}"
_PATTERN_TO_VALUE = {pattern: value for value, pattern in enumerate(CODES)}
_STOP = "1100011101011"


def decode_modules(modules: str) -> str:
    """Decode a Code 128 module string ("1" bar, "0" space) to its text."""
    assert modules.endswith(_STOP), "no stop pattern"
    body = modules[: -len(_STOP)]
    assert len(body) % 11 == 0, "symbols are not 11 modules wide"
    values = [_PATTERN_TO_VALUE[body[i : i + 11]] for i in range(0, len(body), 11)]
    *data, checksum = values
    assert checksum == (data[0] + sum(i * v for i, v in enumerate(data[1:], 1))) % 103
    charset = {103: "A", 104: "B", 105: "C"}[data[0]]
    out: list[str] = []
    for value in data[1:]:
        if charset == "C":
            if value < 100:
                out.append(f"{value:02d}")
            else:
                charset = {100: "B", 101: "A"}[value]
        elif charset == "B":
            if value < 96:
                out.append(chr(32 + value))
            else:
                charset = {99: "C", 101: "A"}[value]
        else:
            if value < 64:
                out.append(chr(32 + value))
            elif value < 96:
                out.append(chr(value - 64))
            else:
                charset = {99: "C", 100: "B"}[value]
    return "".join(out)


def modules_from_label_svg(svg: str) -> tuple[str, str]:
    """Rebuild the module string from a label SVG's barcode group.

    Returns the modules and the group's ``data-barcode`` attribute.
    """
    root = ET.fromstring(svg)  # noqa: S314 - test input we generated
    group = next(el for el in root.iter(f"{_SVG}svg") if el.get("id") == "barcode")
    n_modules = int(group.get("viewBox", "").split()[2])
    cells = ["0"] * n_modules
    for rect in group.iter(f"{_SVG}rect"):
        x, w = int(rect.get("x", "")), int(rect.get("width", ""))
        for i in range(x, x + w):
            assert cells[i] == "0", "overlapping bars"
            cells[i] = "1"
    return "".join(cells), group.get("data-barcode", "")
