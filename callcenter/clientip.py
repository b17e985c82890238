"""The address of the client behind a request or a socket, which rate limits and lockouts key on.

``X-Forwarded-For`` is written by whoever sends the request, so it is believed only when the
peer that connected to us is one of our own proxies (``TRUSTED_PROXIES``). The client is then
the right-most address of the header that is not a proxy of ours: every address to its left
was written by the client or by proxies we do not know. With no proxies configured (the
default) the header is ignored and the client is the peer itself.
"""

from collections.abc import Iterable
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[IPv4Network | IPv6Network, ...]:
    try:
        return tuple(ip_network(entry, strict=False) for entry in entries)
    except ValueError as error:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {error}") from None


def _is_trusted_proxy(address: str) -> bool:
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not networks:
        return False
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def _normalised(address: str) -> str | None:
    """The address in canonical form, or None when it is not an IP address."""
    try:
        return str(ip_address(address.strip()))
    except ValueError:
        return None


def real_client(peer: str | None, forwarded_for: Iterable[str]) -> str | None:
    """The client address given the connecting ``peer`` and the ``X-Forwarded-For`` values;
    None when the peer has no IP address (a unix socket, a request built in code)."""
    peer = _normalised(peer or "")
    if peer is None:
        return None
    if not _is_trusted_proxy(peer):
        return peer
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _normalised(hop)
        if address is None:
            # Garbage in the chain: what a trusted proxy added after it is all we can believe.
            break
        if not _is_trusted_proxy(address):
            return address
        peer = address
    return peer


def client_ip(request: HttpRequest) -> str | None:
    """The real client of an HTTP request (see the module docstring)."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return real_client(request.META.get("REMOTE_ADDR"), [forwarded] if forwarded else [])


# Headers only our own proxies may set; from anyone else they are dropped before any view
# (or Django's SECURE_PROXY_SSL_HEADER check) can believe them.
FORWARDED_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_FORWARDED",
)


class UntrustedForwardedHeadersMiddleware:
    """Forget ``X-Forwarded-*`` headers that did not come from a proxy in TRUSTED_PROXIES."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if not _is_trusted_proxy(request.META.get("REMOTE_ADDR") or ""):
            for header in FORWARDED_HEADERS:
                request.META.pop(header, None)
        return self.get_response(request)
