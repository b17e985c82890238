"""KoreanFirstLocaleMiddleware: Korean unless chosen; ?lang= chooses on any page."""

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

PAGES = ["faq", "track", "login", "chat"]


@pytest.mark.parametrize("name", PAGES)
def test_lang_en_in_the_address_shows_any_page_in_english_and_remembers_it(client, name):
    response = client.get(reverse(name), {"lang": "en"})

    assert '<html lang="en">' in response.content.decode()
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    later = client.get(reverse("faq"))
    assert '<html lang="en">' in later.content.decode()


def test_lang_ko_in_the_address_switches_back_to_korean(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.get(reverse("track"), {"lang": "ko"})

    assert '<html lang="ko">' in response.content.decode()
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ko"


def test_an_unknown_lang_in_the_address_keeps_the_chosen_language(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.get(reverse("faq"), {"lang": "xx"})

    assert '<html lang="en">' in response.content.decode()
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_without_lang_in_the_address_no_language_cookie_is_set(client):
    response = client.get(reverse("faq"))

    assert '<html lang="ko">' in response.content.decode()
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_the_main_layout_switches_language_with_links_on_the_same_page(client):
    page = client.get(reverse("faq")).content.decode()

    assert 'href="?lang=en" lang="en" hreflang="en">English</a>' in page
    assert 'href="?lang=ko" lang="ko" hreflang="ko" aria-current="true">한국어</a>' in page
    assert 'id="language-select"' not in page
