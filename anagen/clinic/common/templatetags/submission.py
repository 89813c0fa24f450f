"""``{% submission_token %}``: loaded as a builtin (settings.TEMPLATES), so any form can use it."""

from django import template
from django.utils.html import format_html

from anagen.clinic.common.forms import SUBMISSION_TOKEN, submission_token_input

register = template.Library()


@register.simple_tag
def submission_token() -> str:
    """The hidden one-time token that makes a create form idempotent (``common.forms.submit_once``)."""
    return format_html(
        '<input type="hidden" name="{}" value="{}">', SUBMISSION_TOKEN, submission_token_input()
    )
