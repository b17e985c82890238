"""The pages around the softphone: the console's call panel and its Voice SDK, the
call-back's "call now", the supervisor's live list of calls and the transfer targets."""

import pytest
from django.urls import reverse

from callcenter.models import CallbackRequest, CallLeg, VoiceCall
from callcenter.selectors import interpreter_languages, live_call_flags
from callcenter.services.callbacks import callback_request_create, callback_take
from callcenter.services.voice import call_summary
from tests import factories

pytestmark = pytest.mark.django_db

SDK = "/static/vendor/twilio-voice/twilio.min.js"


@pytest.fixture
def call(citizen):
    """홍길동's call, answered by nobody yet: the caller on hold, an interpreter dialling."""
    contact = factories.ContactFactory(citizen=citizen, channel="voice")
    VoiceCall.objects.create(contact=contact, call_sid="CA" + "1" * 32)
    CallLeg.objects.create(
        contact=contact, role=CallLeg.Role.CALLER, state=CallLeg.State.JOINED, on_hold=True
    )
    CallLeg.objects.create(contact=contact, role=CallLeg.Role.INTERPRETER, language="en")
    return contact


def test_the_console_has_the_simulated_softphone_and_no_voice_sdk(client, agent_user, settings):
    settings.VOICE_BACKEND = "simulated"
    client.force_login(agent_user)
    page = client.get(reverse("agent-console")).content.decode()
    assert 'id="tpl-softphone"' in page and 'id="call-transfer-modal"' in page
    assert 'data-voice-backend="simulated"' in page
    assert "js/console/softphone.js" in page
    assert SDK not in page


def test_with_twilio_the_console_loads_the_voice_sdk_served_from_npm(client, agent_user, settings):
    settings.VOICE_BACKEND = "twilio"
    client.force_login(agent_user)
    page = client.get(reverse("agent-console")).content.decode()
    assert SDK in page
    assert "cdn" not in page.lower()


def test_the_interpreter_languages_are_the_lines_set(settings):
    settings.VOICE_INTERPRETER_LINES = {"en": "+8215885644", "zh": "+8215885644"}
    assert [code for code, _name in interpreter_languages()] == ["en", "zh"]


def test_a_call_summary_names_the_callers_masked_number(call):
    assert call_summary(call)["caller_phone"] == "010-****-5678"


def test_the_live_list_flags_calls_on_hold_and_with_an_interpreter(call):
    chat = factories.ContactFactory(channel="webchat")
    flags = live_call_flags([call.pk, chat.pk])
    assert flags == {call.pk: {"on_hold": True, "interpreter": True}}
    CallLeg.objects.filter(contact=call).update(state=CallLeg.State.LEFT)
    assert live_call_flags([call.pk]) == {}


def test_the_dashboard_shows_a_call_on_hold_with_its_interpreter(client, supervisor_user, call):
    client.force_login(supervisor_user)
    page = client.get(reverse("supervisor-dashboard")).content.decode()
    assert f'data-call-row="{call.pk}"' in page
    assert 'class="badge text-bg-info js-call-hold">' in page
    assert 'class="badge text-bg-primary js-call-interpreter">' in page
    assert reverse("supervisor-contact", args=[call.pk]) in page


def test_the_call_page_of_a_supervisor_has_the_live_call_card(client, supervisor_user, call):
    client.force_login(supervisor_user)
    page = client.get(reverse("supervisor-contact", args=[call.pk])).content.decode()
    assert 'id="call-live"' in page
    assert reverse("voice-call", args=[call.pk]) in page


def test_transfer_targets_name_each_queue_by_its_code(client, agent_user):
    factories.QueueFactory(code="general", name="일반")
    client.force_login(agent_user)
    queues = client.get(reverse("transfer-targets")).json()["queues"]
    assert {"code": "general", "name": "일반"}.items() <= queues[0].items()


def test_call_now_is_offered_only_on_a_call_back_i_have_taken(client, agent_user, other_agent_user):
    callback = callback_request_create(
        phone="010-3333-4444",
        source=CallbackRequest.Source.CHAT,
        queue=factories.QueueFactory(code="general", name="일반"),
    )
    dial = reverse("voice-callback-dial", args=[callback.pk])
    client.force_login(agent_user)
    assert dial not in client.get(reverse("callback-detail", args=[callback.pk])).content.decode()

    callback_take(callback=callback, agent=agent_user.agent)
    for url in (reverse("callback-detail", args=[callback.pk]), reverse("callback-list")):
        page = client.get(url).content.decode()
        assert dial in page and "js/callback_dial.js" in page

    client.force_login(other_agent_user)
    assert dial not in client.get(reverse("callback-detail", args=[callback.pk])).content.decode()
    assert dial not in client.get(reverse("callback-list")).content.decode()
