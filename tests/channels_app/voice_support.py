"""What the phone tests share: Twilio's signed webhooks, TwiML read as XML, and Twilio's
REST API answered on the wire (``responses``) so the real ``twilio`` library builds and
sends every request the tests then read."""

import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl

import pytest
import responses
from django.conf import settings as django_settings
from twilio.request_validator import RequestValidator

from callcenter.services.voice_backend import SimulatedHttpClient

AUTH_TOKEN = "voice-test-token-" + "t" * 15
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}"
CALLER_ID = "+8220120000"


def signed_post(client, path, params, *, token=AUTH_TOKEN, signed_url=None, headers=True):
    """POST ``params`` to ``path`` signed as Twilio signs (over ``signed_url``, by default
    the public URL); ``headers=False`` sends no signature at all."""
    url = signed_url or django_settings.PUBLIC_BASE_URL + path
    signature = RequestValidator(token).compute_signature(url, params)
    extra = {"HTTP_X_TWILIO_SIGNATURE": signature} if headers else {}
    return client.post(path, params, **extra)


def twiml(response) -> ET.Element:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own TwiML
    assert root.tag == "Response"
    return root


class TwilioApi:
    """Twilio's REST API on the wire: every request the library sends, answered as Twilio
    answers it (the simulated backend's answers), and kept for the test to read."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock
        self.answers = SimulatedHttpClient()
        for method in ("POST", "DELETE", "GET"):
            mock.add_callback(method, re.compile(r"https://api\.twilio\.com/.*"), self._answer)

    def _answer(self, request):
        data = form(request.body)
        answer = self.answers.request(request.method, request.url, data=data)
        return answer.status_code, {"Content-Type": "application/json"}, answer.text

    @property
    def requests(self) -> list[tuple[str, str, dict]]:
        """(method, path after the account, form fields) of every request sent; a field
        sent more than once (Twilio's lists) is a list."""
        return [
            (call.request.method, call.request.url.removeprefix(API), form(call.request.body))
            for call in self.mock.calls
        ]


def form(body: str | None) -> dict:
    fields: dict = {}
    for key, value in parse_qsl(body or ""):
        if key in fields:
            previous = fields[key]
            fields[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            fields[key] = value
    return fields


@pytest.fixture
def twilio_api(settings):
    """VOICE_BACKEND=twilio with a test account, Twilio's HTTP answered by ``TwilioApi``."""
    settings.VOICE_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_API_KEY = "SK" + "1" * 32
    settings.TWILIO_API_SECRET = "api-secret"
    settings.TWILIO_CALLER_ID = CALLER_ID
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield TwilioApi(mock)
