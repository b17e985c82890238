"""The video call summary for the pages that show a contact (ticket, supervisor): the tag
reads it for the signed-in user, so those views need not know video calls exist."""

from django import template

from callcenter.models import Channel
from callcenter.selectors import video_details as video_details_for

register = template.Library()


@register.simple_tag(takes_context=True)
def video_details(context, contact) -> dict | None:
    """``{% video_details contact as video %}``: the selector's summary, or None for a
    contact that is no video call (or a page without a signed-in user)."""
    request = context.get("request")
    if contact is None or contact.channel != Channel.VIDEO or request is None:
        return None
    return video_details_for(contact, user=request.user)
