import re

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def fields_named(form, names: str):
    """The bound fields of ``form`` named in the comma-separated ``names``, in that order."""
    return [form[name] for name in names.split(",") if name in form.fields]


@register.filter
def vocab_label(code) -> str:
    """The human label of a controlled-vocabulary code (e.g. ``miniaturization``)."""
    from anagen.eligibility.vocab import LABELS

    return LABELS.get(code, str(code).replace("_", " "))


@register.filter
def phone_link(number: str) -> str:
    """A telephone number as a click-to-call link (on a phone or a softphone)."""
    if not number:
        return ""
    dial = "".join(c for c in number if c.isdigit() or c == "+")
    return format_html('<a href="tel:{}">{}</a>', dial, number)


_UNITS = (
    (re.compile(r"(\d)\s?um\b"), "\\1 µm"),
    (re.compile(r"\bum(?=/px|\b)"), "µm"),
    (re.compile(r"\bcm2\b"), "cm²"),
    (re.compile(r"\bmm2\b"), "mm²"),
)


@register.filter
def with_units(text: str) -> str:
    """Text from a pure library (plain ASCII for the command line) with the unit symbols a
    reader expects: µm, cm², mm²."""
    text = str(text)
    for pattern, symbol in _UNITS:
        text = pattern.sub(symbol, text)
    return text
