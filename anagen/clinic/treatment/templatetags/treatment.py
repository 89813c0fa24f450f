from django import template
from django.db import models
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.text import capfirst

from anagen.clinic.common.scalp import ScalpZone
from anagen.clinic.treatment.models import Adjunct, CellProduct
from anagen.clinic.treatment.services.lifecycle import RESULT_FIELDS

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


@register.simple_tag
def product_results(product: CellProduct) -> list[tuple[str, str]]:
    """(label, shown value) of each laboratory result (``lifecycle.RESULT_FIELDS``), labelled with
    the model fields' verbose names."""
    rows = []
    for name in RESULT_FIELDS:
        field = CellProduct._meta.get_field(name)
        assert isinstance(field, models.Field)
        rows.append((str(capfirst(field.verbose_name)), _result_shown(product, name, field)))
    return rows


def _result_shown(product: CellProduct, name: str, field) -> str:
    value = getattr(product, name)
    if value is None or value == "":
        return "—"
    if field.choices:
        return format_html(
            '<span class="badge {}">{}</span>', value, getattr(product, f"get_{name}_display")()
        )
    if isinstance(field, models.DateTimeField):
        return date_format(timezone.localtime(value), "d M Y H:i")
    if name == "viable_fraction":
        return percent(value)
    if isinstance(field, models.IntegerField):
        return cells(value)
    return str(value)
