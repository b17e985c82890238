"""Offers, as routing and presence both close them."""

from datetime import datetime, timedelta

from django.conf import settings

from callcenter.models import ContactEvent, Offer
from callcenter.services import notify


def offer_timeout() -> timedelta:
    return timedelta(seconds=settings.ROUTING_OFFER_TIMEOUT_SECONDS)


def offer_close(offer: Offer, state: str, now: datetime, *, reason: str) -> None:
    offer.state = state
    offer.responded_at = now
    offer.save(update_fields=["state", "responded_at"])
    event_type = {
        Offer.State.DECLINED: ContactEvent.Type.DECLINED,
        Offer.State.TIMED_OUT: ContactEvent.Type.TIMED_OUT,
    }.get(state)
    if event_type:
        ContactEvent.objects.create(
            contact_id=offer.contact_id,
            type=event_type,
            agent_id=offer.agent_id,
            data={"offer": offer.pk},
        )
    notify.publish_offer_cancelled(offer, reason=reason)
