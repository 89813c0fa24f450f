from django import template

from anagen.clinic.common.scalp import ScalpZone
from anagen.clinic.treatment.models import Adjunct, CellProduct

register = template.Library()

_LABELS = dict(ScalpZone.choices) | dict(Adjunct.choices)


@register.filter
def choice_labels(codes) -> str:
    """Scalp-zone and adjunct codes as their labels, comma-separated ("none" when empty)."""
    return ", ".join(str(_LABELS.get(code, code)) for code in codes or []) or "none"


@register.filter
def cells(value) -> str:
    """A cell count with thousands separators (``5,000,000``), or an em dash."""
    if value is None or value == "":
        return "—"
    return f"{int(value):,}"


@register.filter
def percent(fraction) -> str:
    if fraction is None:
        return "—"
    return f"{float(fraction) * 100:.1f} %"


_STATUS = dict(CellProduct.Status.choices)


@register.filter
def product_status(code) -> str:
    """A cell product's status code as its label (``in_processing`` → ``In processing``)."""
    return str(_STATUS.get(code, code or ""))
