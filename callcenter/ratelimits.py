"""Rate limits on citizen endpoints, counted per real client address in the shared cache.

django-ratelimit keeps fixed-window counters in the Django cache (Redis in production, so
every process counts together; ``add`` then ``incr`` are atomic there). A limit must never
take the page down with it: when the cache cannot be reached the request is let through and
the failure is logged.
"""

import logging
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django_ratelimit.core import get_usage

from callcenter.clientip import client_ip

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Usage:
    count: int
    limit: int
    retry_after: int  # seconds until the current window ends

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit


def _by_client(group: str, request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def usage(request: HttpRequest, *, group: str, per_hour: int, count: bool) -> Usage | None:
    """This client's use of ``group`` in the current hour; ``count`` adds this request first.

    None when the cache is unavailable (the caller lets the request through).
    """
    try:
        found = get_usage(
            request, group=group, key=_by_client, rate=(per_hour, 3600), increment=count
        )
    except Exception:  # noqa: BLE001 - any cache failure: fail open, never a 500
        logger.warning("Rate limit %s not checked: the cache is unavailable", group, exc_info=True)
        return None
    if found is None:
        return None
    return Usage(count=found["count"], limit=found["limit"], retry_after=max(1, found["time_left"]))


def with_retry_after(response: HttpResponse, seconds: int) -> HttpResponse:
    """A 429 answer that says when to come back."""
    response["Retry-After"] = str(seconds)
    return response
