"""The phone line's IVR: Twilio's signed voice webhooks answered with TwiML.

Requests are signed with Twilio's own algorithm (``RequestValidator.compute_signature``)
over the public URL, as Twilio does; the TwiML is parsed as XML and read verb by verb.
"""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from twilio.request_validator import RequestValidator

from callcenter.models import CallbackRequest, Citizen, Contact, Presence, Skill
from callcenter.services.presence import agent_set_presence
from tests.channels_app.voice_support import AUTH_TOKEN, signed_post, twiml
from tests.factories import AgentFactory, QueueFactory, SkillFactory

pytestmark = pytest.mark.django_db

CALL_SID = "CA" + "1" * 32


@pytest.fixture(autouse=True)
def twilio_account(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN


@pytest.fixture
def queues(db):
    korean = SkillFactory(code="lang-ko", kind=Skill.Kind.LANGUAGE)
    general = QueueFactory(code="general", name="일반", channels=["voice"])
    general.required_skills.set([korean])
    foreign = QueueFactory(code="foreign", name="외국어", channels=["voice", "webchat"])
    return general, foreign


def call_params(**extra) -> dict:
    return {
        "CallSid": CALL_SID,
        "AccountSid": "AC" + "a" * 32,
        "From": "+821012345678",
        "To": "+8220120120",
        "CallStatus": "ringing",
        "Direction": "inbound",
        **extra,
    }


def says(element: ET.Element) -> list[tuple[str, str]]:
    return [(say.get("language"), say.text) for say in element.iter("Say")]


def test_an_incoming_call_is_greeted_in_korean_with_the_recording_notice_and_the_menu(
    client, queues
):
    root = twiml(signed_post(client, "/twilio/voice/incoming", call_params()))
    gather = root.find("Gather")
    assert gather.get("action") == "/twilio/voice/menu"
    assert gather.get("input") == "dtmf speech" and gather.get("numDigits") == "1"
    assert gather.get("language") == "ko-KR"
    spoken = " ".join(text for language, text in says(gather))
    assert {language for language, _ in says(gather)} == {"ko-KR"}
    assert "녹음" in spoken  # the recording notice, before anything is recorded
    for option in ("1번", "2번", "3번", "0번"):
        assert option in spoken
    # Silence: Twilio follows the Redirect after the Gather.
    assert root.find("Redirect").text == "/twilio/voice/menu?attempt=1"

    contact = Contact.objects.get(provider_id=CALL_SID)
    assert contact.channel == "voice" and contact.direction == "inbound"
    assert contact.citizen.phone == "+821012345678"


def test_a_retried_webhook_or_a_known_caller_makes_no_second_contact_or_citizen(client, queues):
    known = Citizen.objects.create(name="홍길동", phone="+821012345678")
    signed_post(client, "/twilio/voice/incoming", call_params())
    signed_post(client, "/twilio/voice/incoming", call_params())
    contact = Contact.objects.get(provider_id=CALL_SID)
    assert contact.citizen == known
    assert Citizen.objects.count() == 1


def test_a_withheld_number_is_a_call_without_a_citizen(client, queues):
    twiml(signed_post(client, "/twilio/voice/incoming", call_params(From="anonymous")))
    assert Contact.objects.get(provider_id=CALL_SID).citizen is None


@pytest.mark.parametrize(
    "case",
    ["tampered parameter", "signed for another URL", "no signature", "another account's token"],
)
def test_a_request_twilio_did_not_sign_is_refused_and_stores_nothing(client, queues, case):
    params = call_params()
    path = "/twilio/voice/incoming"
    if case == "tampered parameter":
        url = django_settings.PUBLIC_BASE_URL + path
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
        response = client.post(
            path, {**params, "From": "+821099999999"}, HTTP_X_TWILIO_SIGNATURE=signature
        )
    elif case == "signed for another URL":
        response = signed_post(client, path, params, signed_url="https://evil.example" + path)
    elif case == "no signature":
        response = signed_post(client, path, params, headers=False)
    else:
        response = signed_post(client, path, params, token="another-token")
    assert response.status_code == 403
    assert not Contact.objects.exists() and not Citizen.objects.exists()


def test_zero_or_the_word_for_an_agent_queues_the_call_with_a_wait_url(client, queues):
    general, _ = queues
    signed_post(client, "/twilio/voice/incoming", call_params())
    root = twiml(signed_post(client, "/twilio/voice/menu", call_params(SpeechResult="상담원 연결")))
    enqueue = root.find("Enqueue")
    assert enqueue.text == "general"
    assert enqueue.get("waitUrl") == "/twilio/voice/wait"
    assert says(root)[0][0] == "ko-KR"
    contact = Contact.objects.get(provider_id=CALL_SID)
    assert contact.queue == general and contact.state == Contact.State.WAITING

    # Pressing 0 again (a retried webhook) keeps the place in the queue.
    queued_at = contact.queued_at
    twiml(signed_post(client, "/twilio/voice/menu", call_params(Digits="0")))
    contact.refresh_from_db()
    assert contact.queued_at == queued_at


def test_the_foreign_language_menu_speaks_each_option_in_its_own_language(client, queues):
    signed_post(client, "/twilio/voice/incoming", call_params())
    root = twiml(signed_post(client, "/twilio/voice/menu", call_params(Digits="2")))
    gather = root.find("Gather")
    assert gather.get("action") == "/twilio/voice/language"
    languages = [language for language, _ in says(gather)]
    # Mongolian has no Twilio voice: without its recording the option is said in English.
    assert languages == ["en-US", "cmn-CN", "ja-JP", "vi-VN", "en-US"]
    assert says(gather)[-1][1] == "For Mongolian, press 5."


@pytest.mark.parametrize(
    ("answer", "language", "say_language"),
    [
        ({"Digits": "1"}, "en", "en-US"),
        ({"Digits": "2"}, "zh", "cmn-CN"),
        ({"Digits": "3"}, "ja", "ja-JP"),
        ({"Digits": "4"}, "vi", "vi-VN"),
        ({"SpeechResult": "Tiếng Việt"}, "vi", "vi-VN"),
    ],
)
def test_a_chosen_language_queues_the_call_for_the_foreign_language_team_in_that_language(
    client, queues, answer, language, say_language
):
    _, foreign = queues
    signed_post(client, "/twilio/voice/incoming", call_params())
    root = twiml(signed_post(client, "/twilio/voice/language", call_params(**answer)))
    assert root.find("Enqueue").text == "foreign"
    assert says(root)[0][0] == say_language
    contact = Contact.objects.get(provider_id=CALL_SID)
    assert (contact.queue, contact.language) == (foreign, language)


def test_a_wrong_key_is_said_and_the_menu_comes_again_and_silence_reaches_an_agent(client, queues):
    signed_post(client, "/twilio/voice/incoming", call_params())
    root = twiml(signed_post(client, "/twilio/voice/menu", call_params(Digits="7")))
    assert "잘못" in says(root)[0][1]
    assert root.find("Gather") is not None and root.find("Enqueue") is None

    path = "/twilio/voice/menu?attempt=3"
    root = twiml(signed_post(client, path, call_params()))  # three menus without an answer
    assert root.find("Enqueue").text == "general"


def test_sign_language_information_then_the_menu_again(client, queues):
    signed_post(client, "/twilio/voice/incoming", call_params())
    root = twiml(signed_post(client, "/twilio/voice/menu", call_params(Digits="3")))
    assert "수어" in says(root)[0][1]
    assert root.find("Gather").get("action") == "/twilio/voice/menu"


def test_the_wait_music_tells_the_place_in_the_callers_language(client, queues):
    signed_post(client, "/twilio/voice/incoming", call_params())
    signed_post(client, "/twilio/voice/language", call_params(Digits="1"))
    root = twiml(signed_post(client, "/twilio/voice/wait", call_params(QueuePosition="1")))
    # Nobody who speaks English is logged in: the caller is told so, in English.
    assert says(root)[0] == (
        "en-US",
        "No agent who speaks your language is available right now. Please hold.",
    )
    assert root.find("Pause").get("length") == "30"


def test_the_wait_music_tells_a_korean_caller_their_place_and_wait(client, queues):
    general, _ = queues
    agent = AgentFactory(skills=list(general.required_skills.all()))
    agent_set_presence(agent=agent, presence=Presence.BREAK, reason="교육", dispatch=False)
    signed_post(client, "/twilio/voice/incoming", call_params())
    signed_post(client, "/twilio/voice/menu", call_params(Digits="0"))
    root = twiml(signed_post(client, "/twilio/voice/wait", call_params(QueuePosition="1")))
    language, text = says(root)[0]
    assert language == "ko-KR"
    assert text.startswith("고객님의 대기 순서는 1번째이며")


def test_a_menu_answer_for_a_call_we_never_saw_is_404(client, queues):
    response = signed_post(client, "/twilio/voice/menu", call_params(Digits="0"))
    assert response.status_code == 404
    assert not Contact.objects.exists()


# --- status callbacks ---------------------------------------------------------------------
def status(client, call_status, **extra):
    return signed_post(client, "/twilio/voice/status", call_params(CallStatus=call_status, **extra))


def test_a_caller_who_hangs_up_while_waiting_has_abandoned_and_late_callbacks_change_nothing(
    client, queues
):
    signed_post(client, "/twilio/voice/incoming", call_params())
    signed_post(client, "/twilio/voice/menu", call_params(Digits="0"))
    assert status(client, "completed", CallDuration="42").status_code == 204
    contact = Contact.objects.get(provider_id=CALL_SID)
    assert contact.state == Contact.State.ABANDONED
    ended_at = contact.ended_at
    line = contact.messages.get(sender="system")
    assert line.text == "민원인이 전화를 끊었습니다."

    # The same callback again, then an earlier status arriving late: the same final state.
    for late in ("completed", "ringing", "in-progress"):
        assert status(client, late).status_code == 204
    contact.refresh_from_db()
    assert (contact.state, contact.ended_at) == (Contact.State.ABANDONED, ended_at)
    assert contact.messages.filter(sender="system").count() == 1


@pytest.mark.parametrize("final", ["busy", "no-answer", "failed", "canceled"])
def test_every_final_status_ends_a_waiting_call_as_abandoned(client, queues, final):
    signed_post(client, "/twilio/voice/incoming", call_params())
    signed_post(client, "/twilio/voice/menu", call_params(Digits="0"))
    status(client, final)
    assert Contact.objects.get(provider_id=CALL_SID).state == Contact.State.ABANDONED


def test_a_call_that_ends_while_an_agent_talks_goes_to_wrap_up(client, queues):
    general, _ = queues
    agent = AgentFactory(skills=list(general.required_skills.all()))
    signed_post(client, "/twilio/voice/incoming", call_params())
    signed_post(client, "/twilio/voice/menu", call_params(Digits="0"))
    contact = Contact.objects.get(provider_id=CALL_SID)
    Contact.objects.filter(pk=contact.pk).update(agent=agent, answered_at=contact.queued_at)
    status(client, "completed")
    contact.refresh_from_db()
    assert contact.state == Contact.State.WRAPUP and not contact.abandoned


def test_status_callbacks_must_be_signed_and_unknown_calls_are_acknowledged(client, queues):
    signed_post(client, "/twilio/voice/incoming", call_params())
    signed_post(client, "/twilio/voice/menu", call_params(Digits="0"))
    forged = client.post("/twilio/voice/status", call_params(CallStatus="completed"))
    assert forged.status_code == 403
    assert Contact.objects.get(provider_id=CALL_SID).state == Contact.State.WAITING
    other = signed_post(
        client, "/twilio/voice/status", call_params(CallSid="CA" + "9" * 32, CallStatus="busy")
    )
    assert other.status_code == 204


# --- the call-back offer in the queue -----------------------------------------------------
def queued_call(client, **extra):
    signed_post(client, "/twilio/voice/incoming", call_params(**extra))
    signed_post(client, "/twilio/voice/menu", call_params(Digits="0", **extra))
    return Contact.objects.get(provider_id=CALL_SID)


def test_the_enqueue_says_where_to_go_once_the_caller_leaves_the_queue(client, queues):
    signed_post(client, "/twilio/voice/incoming", call_params())
    root = twiml(signed_post(client, "/twilio/voice/menu", call_params(Digits="0")))
    assert root.find("Enqueue").get("action") == "/twilio/voice/queue-exit"


def test_a_short_wait_has_no_call_back_offer_a_long_one_has(client, queues, settings):
    settings.VOICE_CALLBACK_OFFER_SECONDS = 120
    contact = queued_call(client)
    root = twiml(signed_post(client, "/twilio/voice/wait", call_params()))
    assert root.find("Gather") is None

    Contact.objects.filter(pk=contact.pk).update(queued_at=timezone.now() - timedelta(minutes=3))
    root = twiml(signed_post(client, "/twilio/voice/wait", call_params()))
    gather = root.find("Gather")
    assert gather.get("action") == "/twilio/voice/callback" and gather.get("numDigits") == "1"
    assert "1번" in says(gather)[-1][1]
    assert gather.find("Pause") is not None  # the music plays inside it: 1 works any time


def test_pressing_1_leaves_a_call_back_for_the_calling_number_and_ends_the_call_politely(
    client, queues, settings
):
    settings.VOICE_CALLBACK_OFFER_SECONDS = 0
    general, _ = queues
    contact = queued_call(client)
    root = twiml(signed_post(client, "/twilio/voice/callback", call_params(Digits="1")))
    assert "콜백 요청이 접수" in says(root)[0][1]
    assert root.find("Leave") is not None

    request = CallbackRequest.objects.get()
    assert (str(request.phone), request.queue, request.contact) == (
        "+821012345678",
        general,
        contact,
    )
    assert request.source == CallbackRequest.Source.PHONE_QUEUE
    contact.refresh_from_db()
    assert contact.state == Contact.State.ENDED and not contact.abandoned

    # Twilio then asks the Enqueue's action: goodbye, and the end leaves it as it is.
    root = twiml(signed_post(client, "/twilio/voice/queue-exit", call_params(QueueResult="leave")))
    assert root.find("Hangup") is not None
    signed_post(client, "/twilio/voice/status", call_params(CallStatus="completed"))
    contact.refresh_from_db()
    assert contact.state == Contact.State.ENDED and not contact.abandoned

    # A second press (a retried webhook) makes no second request.
    root = twiml(signed_post(client, "/twilio/voice/callback", call_params(Digits="1")))
    assert root.find("Redirect").text == "/twilio/voice/wait"
    assert CallbackRequest.objects.count() == 1


def test_another_key_or_a_withheld_number_keeps_the_caller_waiting(client, queues, settings):
    settings.VOICE_CALLBACK_OFFER_SECONDS = 0
    contact = queued_call(client, From="anonymous")
    root = twiml(signed_post(client, "/twilio/voice/wait", call_params(From="anonymous")))
    assert root.find("Gather") is None  # nobody to call back
    for digits in ("5", "1"):
        root = twiml(
            signed_post(
                client, "/twilio/voice/callback", call_params(Digits=digits, From="anonymous")
            )
        )
        assert root.find("Redirect").text == "/twilio/voice/wait"
    contact.refresh_from_db()
    assert contact.state == Contact.State.WAITING
    assert not CallbackRequest.objects.exists()


def test_a_queue_error_ends_the_call_with_an_apology_in_the_callers_language(client, queues):
    signed_post(client, "/twilio/voice/incoming", call_params())
    signed_post(client, "/twilio/voice/language", call_params(Digits="3"))
    root = twiml(
        signed_post(client, "/twilio/voice/queue-exit", call_params(QueueResult="queue-full"))
    )
    assert says(root)[0][0] == "ja-JP" and root.find("Hangup") is not None
    root = twiml(
        signed_post(client, "/twilio/voice/queue-exit", call_params(QueueResult="bridged"))
    )
    assert len(root) == 0
