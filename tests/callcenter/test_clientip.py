"""The real client address: X-Forwarded-For is believed only from configured proxies."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from callcenter.clientip import client_ip


def request_from(peer: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_proxies_a_forged_forwarded_for_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(request_from("203.0.113.9", "1.2.3.4")) == "203.0.113.9"


def test_a_peer_that_is_not_our_proxy_is_the_client_whatever_it_forwards(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(request_from("203.0.113.9", "10.0.0.5, 1.2.3.4")) == "203.0.113.9"


def test_behind_our_proxy_the_client_is_the_address_the_proxy_saw(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    assert client_ip(request_from("10.0.0.1", "198.51.100.7")) == "198.51.100.7"


def test_addresses_the_client_wrote_itself_to_the_left_are_not_believed(settings):
    """The client sent "X-Forwarded-For: 1.2.3.4"; our proxy appended the real peer."""
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    assert client_ip(request_from("10.0.0.1", "1.2.3.4, 198.51.100.7")) == "198.51.100.7"


def test_a_chain_of_our_own_proxies_is_skipped(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.168.1.1"]
    request = request_from("10.0.0.1", "1.2.3.4, 198.51.100.7, 192.168.1.1, 10.2.3.4")
    assert client_ip(request) == "198.51.100.7"


def test_garbage_in_the_header_stops_at_the_last_address_we_can_believe(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(request_from("10.0.0.1", "198.51.100.7, not-an-ip")) == "10.0.0.1"


def test_ipv6_clients_and_proxies_work_alike(settings):
    settings.TRUSTED_PROXIES = ["fd00::/8"]
    assert client_ip(request_from("fd00::1", "2001:db8::7")) == "2001:db8::7"


def test_a_bad_proxy_entry_fails_loudly(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.300"]
    with pytest.raises(ImproperlyConfigured):
        client_ip(request_from("10.0.0.1", "1.2.3.4"))


def test_a_peer_without_an_ip_address_has_no_client_address(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(request_from("")) is None


def test_a_forwarded_proto_from_an_unknown_peer_does_not_make_the_request_secure(settings, client):
    """Otherwise anyone could claim HTTPS and skip the production redirect."""
    settings.TRUSTED_PROXIES = []
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_our_proxy_may_say_the_client_spoke_https(settings, client):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 200
