from django import template

from ..models import ApiToken

register = template.Library()


@register.simple_tag
def api_tokens_of(user):
    """The member of staff's own API tokens, newest first."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(ApiToken.objects.filter(user=user))
