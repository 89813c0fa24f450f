"""Printable product labels: SVG with a Code 128 barcode, and PDF via WeasyPrint.

The barcode encodes exactly ``identifier.barcode_data`` (compact identifier with its
check character, plus the product suffix for products). Bars come from python-barcode's
SVG writer (no Pillow needed); text is laid out here. All user-supplied text is
XML-escaped by :mod:`xml.etree.ElementTree`.
"""

from __future__ import annotations

import base64
import html
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime

import barcode
from barcode.writer import SVGWriter

from anagen.identity.donation import DonationId, ProductId

__all__ = [
    "AUTOLOGOUS_WARNING",
    "LABEL_HEIGHT_MM",
    "LABEL_WIDTH_MM",
    "LabelData",
    "barcode_modules",
    "label_html",
    "label_pdf",
    "label_svg",
]

LABEL_WIDTH_MM: float = 100.0
LABEL_HEIGHT_MM: float = 50.0
AUTOLOGOUS_WARNING = "AUTOLOGOUS USE ONLY"

_SVG_NS = "http://www.w3.org/2000/svg"
_SANS = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
_MONO = "DejaVu Sans Mono, Liberation Mono, monospace"
_MONO_ADVANCE = 0.602  # DejaVu Sans Mono advance width in em
_SANS_ADVANCE = 0.64  # conservative average advance for DejaVu Sans (bold, caps)
_QUIET_MODULES = 10  # Code 128 quiet zone, in modules, on each side
_MARGIN_MM = 2.0
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


@dataclass(frozen=True, slots=True)
class LabelData:
    """Everything printed on a product label.

    Parameters
    ----------
    identifier : DonationId or ProductId
        Encoded in the barcode and printed with its check character.
    patient_name : str
        As it must be read back at the identity check, e.g. ``"DOE, Jane"``.
    mrn : str
        Medical record number.
    date_of_birth : datetime.date
    product_description : str
        E.g. ``"SVF cell suspension, 5 mL"``.
    expiry : datetime.date or datetime.datetime
        Expiry date, or date and time (fresh cell products expire within hours).
    facility_name : str, optional
        Printed in the footer.
    """

    identifier: DonationId | ProductId
    patient_name: str
    mrn: str
    date_of_birth: date
    product_description: str
    expiry: date | datetime
    facility_name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.identifier, DonationId | ProductId):
            raise TypeError("identifier must be a DonationId or ProductId")
        for name in ("patient_name", "mrn", "product_description"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name} must be a non-empty string")
        if not isinstance(self.facility_name, str):
            raise TypeError("facility_name must be a string")
        if not isinstance(self.date_of_birth, date) or isinstance(self.date_of_birth, datetime):
            raise TypeError("date_of_birth must be a datetime.date")
        if not isinstance(self.expiry, date):
            raise TypeError("expiry must be a datetime.date or datetime.datetime")


def _fmt_date(value: date) -> str:
    return f"{value.day:02d} {_MONTHS[value.month - 1]} {value.year:04d}"


def _fmt_expiry(value: date | datetime) -> str:
    if isinstance(value, datetime):
        text = f"{_fmt_date(value)} {value:%H:%M}"
        tz = value.tzname()
        return f"{text} {tz}" if tz else text
    return _fmt_date(value)


def barcode_modules(data: str) -> str:
    """Return the Code 128 module pattern python-barcode builds for ``data``.

    Parameters
    ----------
    data : str
        Text to encode.

    Returns
    -------
    str
        ``"1"`` for a bar module and ``"0"`` for a space module, start to stop pattern.
    """
    # python-barcode is untyped: state what build() gives
    modules: str = barcode.get("code128", data).build()[0]
    return modules


def _barcode_rects(data: str) -> tuple[int, list[tuple[int, int]]]:
    """Render ``data`` with python-barcode's SVG writer at 1 unit per module.

    Returns the module count and the bars as (x, width) in modules.
    """
    code = barcode.get("code128", data, writer=SVGWriter())
    svg = code.render(
        {
            "write_text": False,
            "module_width": 1,
            "module_height": 1,
            "quiet_zone": 0,
            "margin_top": 0,
            "margin_bottom": 0,
            "compress": True,
        }
    )
    root = ET.fromstring(svg)  # noqa: S314 - generated locally by python-barcode
    bars: list[tuple[int, int]] = []
    for rect in root.iter(f"{{{_SVG_NS}}}rect"):
        width = rect.get("width", "")
        if width.endswith("%"):  # background
            continue
        bars.append((round(float(rect.get("x", "0")[:-2])), round(float(width[:-2]))))
    modules = len(code.build()[0])
    return modules, bars


def _sub(parent: ET.Element, tag: str, **attrs: object) -> ET.Element:
    return ET.SubElement(
        parent, tag, {k.rstrip("_").replace("_", "-"): str(v) for k, v in attrs.items()}
    )


def _text(
    parent: ET.Element,
    x: float,
    y: float,
    content: str,
    size: float,
    *,
    max_width: float,
    bold: bool = False,
    anchor: str = "start",
    family: str = _SANS,
    fill: str = "black",
    cls: str = "",
) -> ET.Element:
    attrs: dict[str, object] = {
        "x": f"{x:.2f}",
        "y": f"{y:.2f}",
        "font_family": family,
        "font_size": f"{size:.2f}",
        "text_anchor": anchor,
        "fill": fill,
    }
    if bold:
        attrs["font_weight"] = "bold"
    if cls:
        attrs["class_"] = cls
    advance = _MONO_ADVANCE if family == _MONO else _SANS_ADVANCE
    if len(content) * size * advance > max_width:
        attrs["textLength"] = f"{max_width:.2f}"
        attrs["lengthAdjust"] = "spacingAndGlyphs"
    element = _sub(parent, "text", **attrs)
    # textLength / lengthAdjust are camelCase SVG attributes; restore their spelling.
    for key in ("textLength", "lengthAdjust"):
        mangled = key.replace("_", "-")
        if mangled in element.attrib and mangled != key:
            element.attrib[key] = element.attrib.pop(mangled)
    element.text = content
    return element


def label_svg(label: LabelData) -> str:
    """Render a 100 × 50 mm label as an SVG document.

    Parameters
    ----------
    label : LabelData

    Returns
    -------
    str
        A standalone SVG document (user units are millimetres). The barcode bars are in
        the group ``id="barcode"`` whose ``data-barcode`` attribute holds the encoded text.
    """
    ident = label.identifier
    width, height = LABEL_WIDTH_MM, LABEL_HEIGHT_MM
    usable = width - 2 * _MARGIN_MM
    ET.register_namespace("", _SVG_NS)
    root = ET.Element(
        "svg",
        {
            "xmlns": _SVG_NS,
            "version": "1.1",
            "width": f"{width:g}mm",
            "height": f"{height:g}mm",
            "viewBox": f"0 0 {width:g} {height:g}",
        },
    )
    _sub(root, "title").text = f"Product label {ident.display}"
    _sub(root, "rect", x=0, y=0, width=f"{width:g}", height=f"{height:g}", fill="white")
    _sub(
        root,
        "rect",
        x="0.5",
        y="0.5",
        width=f"{width - 1:g}",
        height=f"{height - 1:g}",
        fill="none",
        stroke="black",
        stroke_width="0.3",
    )

    # Banner
    _sub(root, "rect", x="0.5", y="0.5", width=f"{width - 1:g}", height="5.5", fill="black")
    _text(
        root,
        width / 2,
        4.6,
        AUTOLOGOUS_WARNING,
        3.8,
        max_width=usable,
        bold=True,
        anchor="middle",
        fill="white",
        cls="warning",
    )

    # Barcode: modules scaled to the usable width with a 10-module quiet zone each side.
    modules, bars = _barcode_rects(ident.barcode_data)
    module_mm = usable / (modules + 2 * _QUIET_MODULES)
    bar_x = _MARGIN_MM + _QUIET_MODULES * module_mm
    bar_y, bar_h = 7.5, 12.0
    group = _sub(
        root,
        "svg",
        id="barcode",
        x=f"{bar_x:.4f}",
        y=f"{bar_y:g}",
        width=f"{modules * module_mm:.4f}",
        height=f"{bar_h:g}",
        viewBox=f"0 0 {modules} 1",
        preserveAspectRatio="none",
        data_barcode=ident.barcode_data,
        data_symbology="code128",
    )
    group.attrib["viewBox"] = group.attrib.pop("viewBox")
    group.attrib["preserveAspectRatio"] = group.attrib.pop("preserveAspectRatio")
    for x, w in bars:
        _sub(group, "rect", x=x, y=0, width=w, height=1, fill="black")

    # Human-readable identifier, check character boxed (monospace so the box can be placed).
    display = ident.display
    size = 4.4
    char_w = size * _MONO_ADVANCE
    x0 = width / 2 - len(display) * char_w / 2
    text_y = 24.6
    _text(
        root, x0, text_y, display, size, max_width=usable, family=_MONO, bold=True, cls="identifier"
    )
    check_index = len(ident.donation.display if isinstance(ident, ProductId) else display) - 1
    _sub(
        root,
        "rect",
        class_="check-box",
        x=f"{x0 + check_index * char_w - 0.4:.2f}",
        y=f"{text_y - size * 0.82:.2f}",
        width=f"{char_w + 0.8:.2f}",
        height=f"{size * 1.05:.2f}",
        fill="none",
        stroke="black",
        stroke_width="0.3",
    )

    # Patient and product block.
    left = _MARGIN_MM + 1
    block = usable - 2
    _text(root, left, 30.2, label.patient_name, 3.6, max_width=block, bold=True, cls="patient")
    _text(
        root,
        left,
        34.6,
        f"MRN {label.mrn}    DOB {_fmt_date(label.date_of_birth)}",
        3.0,
        max_width=block,
        cls="mrn-dob",
    )
    _text(root, left, 39.0, label.product_description, 3.0, max_width=block, cls="product")
    _text(
        root,
        left,
        43.6,
        f"EXPIRES {_fmt_expiry(label.expiry)}",
        3.2,
        max_width=block,
        bold=True,
        cls="expiry",
    )
    if label.facility_name:
        _text(root, left, 47.6, label.facility_name, 2.4, max_width=block, cls="facility")
    return ET.tostring(root, encoding="unicode", xml_declaration=False)


def label_html(label: LabelData) -> str:
    """Wrap the label SVG in a one-page HTML document sized for the label stock.

    Parameters
    ----------
    label : LabelData

    Returns
    -------
    str
        HTML with an ``@page`` of 100 × 50 mm and no margins, the SVG embedded as a
        data URI image. Used by :func:`label_pdf`; also printable from a browser.
    """
    svg = label_svg(label)
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    title = html.escape(f"Label {label.identifier.display}", quote=True)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{title}</title><style>"
        f"@page {{ size: {LABEL_WIDTH_MM:g}mm {LABEL_HEIGHT_MM:g}mm; margin: 0 }}"
        "html, body { margin: 0; padding: 0 }"
        f"img {{ display: block; width: {LABEL_WIDTH_MM:g}mm; height: {LABEL_HEIGHT_MM:g}mm }}"
        "</style></head><body>"
        f"<img alt='{title}' src='data:image/svg+xml;base64,{data}'>"
        "</body></html>"
    )


def label_pdf(label: LabelData) -> bytes:
    """Render the label as a one-page 100 × 50 mm PDF (WeasyPrint, SVG embedded).

    Parameters
    ----------
    label : LabelData

    Returns
    -------
    bytes
        The PDF document.
    """
    from weasyprint import HTML  # imported lazily: heavy, and only needed for PDFs

    pdf: bytes = HTML(string=label_html(label)).write_pdf()  # weasyprint is untyped
    return pdf
