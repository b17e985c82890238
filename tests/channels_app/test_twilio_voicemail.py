"""After hours on the phone line, voicemail, and Mongolian callers (recorded prompts).

Webhooks are signed as Twilio signs them (the helpers of test_twilio_voice). The clock is
set through ``timezone.now`` to a moment the queue's calendar has open or closed: Thursday
26 November 2026 is an ordinary working day, Christmas and 추석 are public holidays.
"""

from datetime import date, datetime
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from callcenter.models import Contact, ContactEvent, Offer, Presence, Skill, VoiceCall
from callcenter.services import routing
from callcenter.services.presence import agent_set_presence
from channels_app.voice_prompts import PROMPTS, prompt_keys
from tests.channels_app.test_twilio_voice import CALL_SID, call_params, says
from tests.channels_app.voice_support import AUTH_TOKEN, signed_post, twiml
from tests.factories import AgentFactory, QueueFactory, SkillFactory
from tickets.models import BusinessCalendar, CalendarClosure, Ticket
from tickets.sla import SEOUL

pytestmark = pytest.mark.django_db

THURSDAY_MORNING = datetime(2026, 11, 26, 10, 0, tzinfo=SEOUL)
THURSDAY_NIGHT = datetime(2026, 11, 26, 22, 0, tzinfo=SEOUL)
CHRISTMAS_MORNING = datetime(2026, 12, 25, 11, 0, tzinfo=SEOUL)  # 기독탄신일, a Friday
CHUSEOK_MORNING = datetime(2026, 9, 24, 11, 0, tzinfo=SEOUL)  # 추석 연휴, a Thursday
RECORDING_SID = "RE" + "2" * 32
RECORDING_URL = (
    f"https://api.twilio.com/2010-04-01/Accounts/AC{'a' * 32}/Recordings/{RECORDING_SID}"
)


@pytest.fixture(autouse=True)
def twilio_account(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN


@pytest.fixture
def office_hours(db) -> BusinessCalendar:
    """Mon–Fri 09:00–18:00, Korean public holidays closed."""
    return BusinessCalendar.objects.create(name="외국어 상담 시간")


@pytest.fixture
def queues(office_hours):
    korean = SkillFactory(code="lang-ko", kind=Skill.Kind.LANGUAGE)
    general = QueueFactory(code="general", name="일반", channels=["voice"])  # 24/7
    general.required_skills.set([korean])
    foreign = QueueFactory(
        code="foreign", name="외국어", channels=["voice", "webchat"], calendar=office_hours
    )
    return general, foreign


@pytest.fixture
def clock(monkeypatch):
    def set_to(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_to


def choose_language(client, digits: str, **extra):
    signed_post(client, "/twilio/voice/incoming", call_params(**extra))
    return twiml(signed_post(client, "/twilio/voice/language", call_params(Digits=digits, **extra)))


def leave_voicemail(client, seconds="37", **extra):
    params = call_params(
        RecordingSid=RECORDING_SID,
        RecordingUrl=RECORDING_URL,
        RecordingDuration=seconds,
        Digits="#",
        **extra,
    )
    return signed_post(client, "/twilio/voice/voicemail", params)


def recording_callback(client, *, sid=RECORDING_SID, status="completed", **extra):
    params = call_params(
        RecordingSid=sid,
        RecordingUrl=RECORDING_URL,
        RecordingDuration="37",
        RecordingStatus=status,
        RecordingChannels="1",
        **extra,
    )
    return signed_post(client, "/twilio/voice/voicemail-recording", params)


# --- after hours --------------------------------------------------------------------------
def test_after_hours_a_caller_hears_the_message_then_records_after_the_tone_then_goodbye(
    client, queues, clock
):
    _, foreign = queues
    clock(THURSDAY_NIGHT)
    root = choose_language(client, "1")
    assert [verb.tag for verb in root] == ["Say", "Record", "Say", "Hangup"]
    assert root.find("Enqueue") is None
    language, text = says(root)[0]
    assert language == "en-US" and "After the tone" in text
    record = root.find("Record")
    assert record.attrib == {
        "action": "/twilio/voice/voicemail",
        "method": "POST",
        "maxLength": "120",
        "playBeep": "true",
        "finishOnKey": "#",
        "trim": "trim-silence",
        "recordingStatusCallback": django_settings.PUBLIC_BASE_URL
        + "/twilio/voice/voicemail-recording",
        "recordingStatusCallbackMethod": "POST",
    }
    assert says(root)[1] == ("en-US", "Thank you for calling. Goodbye.")

    # Nobody was there to wait for: the contact ends, in that queue, and is no abandonment.
    contact = Contact.objects.get(provider_id=CALL_SID)
    assert (contact.queue, contact.language, contact.queued_at) == (foreign, "en", None)
    assert contact.state == Contact.State.ENDED and not contact.abandoned
    assert contact.events.get(type=ContactEvent.Type.ENDED).data == {"by": "voicemail"}


def test_in_office_hours_the_same_caller_is_queued(client, queues, clock):
    clock(THURSDAY_MORNING)
    root = choose_language(client, "1")
    assert root.find("Enqueue").text == "foreign" and root.find("Record") is None
    assert Contact.objects.get(provider_id=CALL_SID).state == Contact.State.WAITING


@pytest.mark.parametrize(
    "moment", [CHRISTMAS_MORNING, CHUSEOK_MORNING], ids=["christmas", "chuseok"]
)
def test_a_korean_public_holiday_is_after_hours_all_day(client, queues, clock, moment):
    clock(moment)
    root = choose_language(client, "3")
    assert root.find("Record") is not None and root.find("Enqueue") is None
    assert says(root)[0][0] == "ja-JP" and "受付時間外" in says(root)[0][1]


def test_a_closure_day_of_the_calendar_is_after_hours(client, queues, clock, office_hours):
    CalendarClosure.objects.create(calendar=office_hours, date=date(2026, 11, 26), reason="예시")
    clock(THURSDAY_MORNING)
    assert choose_language(client, "2").find("Record") is not None


def test_the_korean_line_without_a_calendar_answers_at_night_and_on_holidays(client, queues, clock):
    clock(CHRISTMAS_MORNING.replace(hour=3))
    signed_post(client, "/twilio/voice/incoming", call_params())
    root = twiml(signed_post(client, "/twilio/voice/menu", call_params(Digits="0")))
    assert root.find("Enqueue").text == "general" and root.find("Record") is None


def test_a_korean_queue_with_hours_speaks_its_after_hours_message_in_korean(
    client, queues, clock, office_hours
):
    general, _ = queues
    general.calendar = office_hours
    general.save(update_fields=["calendar"])
    clock(THURSDAY_NIGHT)
    signed_post(client, "/twilio/voice/incoming", call_params())
    root = twiml(signed_post(client, "/twilio/voice/menu", call_params(Digits="0")))
    language, text = says(root)[0]
    assert language == "ko-KR"
    assert text.startswith("지금은 상담 시간이 아닙니다")
    assert "삐 소리 후 용건과 연락처를 남겨 주시면" in text


def test_a_caller_who_hangs_up_during_the_message_has_not_abandoned(client, queues, clock):
    clock(THURSDAY_NIGHT)
    choose_language(client, "1")
    signed_post(client, "/twilio/voice/status", call_params(CallStatus="completed"))
    contact = Contact.objects.get(provider_id=CALL_SID)
    assert contact.state == Contact.State.ENDED and not contact.abandoned
    assert not Ticket.objects.exists()


def test_a_caller_already_waiting_keeps_the_place_when_the_queue_closes(client, queues, clock):
    clock(datetime(2026, 11, 26, 17, 59, tzinfo=SEOUL))
    assert choose_language(client, "1").find("Enqueue").text == "foreign"
    clock(THURSDAY_NIGHT)  # a retried webhook after closing time
    root = twiml(signed_post(client, "/twilio/voice/language", call_params(Digits="1")))
    assert root.find("Enqueue").text == "foreign"
    assert Contact.objects.get(provider_id=CALL_SID).state == Contact.State.WAITING


# --- the voicemail ------------------------------------------------------------------------
def test_a_voicemail_is_a_new_ticket_for_the_next_shift_with_the_call_and_the_caller(
    client, queues, clock
):
    clock(THURSDAY_NIGHT)
    choose_language(client, "1")
    root = twiml(leave_voicemail(client))
    assert [verb.tag for verb in root] == ["Say", "Hangup"]
    assert says(root)[0][0] == "en-US" and "message has been received" in says(root)[0][1]

    contact = Contact.objects.get(provider_id=CALL_SID)
    ticket = Ticket.objects.get()
    assert list(ticket.contacts.all()) == [contact]
    assert ticket.citizen == contact.citizen and ticket.citizen.phone == "+821012345678"
    assert (ticket.channel, ticket.status) == ("voice", Ticket.Status.NEW)
    assert ticket.subject == "음성사서함 (시간 외): 외국어"
    assert "음성 메시지(37초)" in ticket.description
    assert "2026-11-26 22:00" in ticket.description  # Seoul time
    assert "민원인 언어: 영어" in ticket.description
    assert VoiceCall.objects.get(contact=contact).voicemail
    assert contact.events.filter(type=ContactEvent.Type.VOICEMAIL).count() == 1

    # Twilio retries the action: the same ticket, no second event.
    twiml(leave_voicemail(client))
    assert Ticket.objects.count() == 1
    assert contact.events.filter(type=ContactEvent.Type.VOICEMAIL).count() == 1
    # The call's end changes nothing: ended by the voicemail, not abandoned.
    signed_post(client, "/twilio/voice/status", call_params(CallStatus="completed"))
    contact.refresh_from_db()
    assert contact.state == Contact.State.ENDED and not contact.abandoned


def test_a_voicemail_from_a_withheld_number_is_a_ticket_without_a_citizen(client, queues, clock):
    clock(THURSDAY_NIGHT)
    choose_language(client, "4", From="anonymous")
    twiml(leave_voicemail(client, From="anonymous"))
    ticket = Ticket.objects.get()
    assert ticket.citizen is None
    assert "발신 번호가 표시되지 않은" in ticket.description
    assert "민원인 언어: 베트남어" in ticket.description


def test_a_voicemail_for_a_call_we_never_saw_is_404(client, queues):
    assert leave_voicemail(client).status_code == 404
    assert not Ticket.objects.exists()


def test_the_recording_callback_stores_the_recording_once(client, queues, clock):
    clock(THURSDAY_NIGHT)
    choose_language(client, "1")
    twiml(leave_voicemail(client))
    assert recording_callback(client).status_code == 204
    assert recording_callback(client).status_code == 204  # Twilio retries
    call = VoiceCall.objects.get(contact__provider_id=CALL_SID)
    assert (call.recording_sid, call.recording_url, call.recording_seconds) == (
        RECORDING_SID,
        RECORDING_URL,
        37,
    )
    assert call.contact.events.filter(type=ContactEvent.Type.RECORDED).count() == 1
    # Another recording for the same call (there is none) does not replace the voicemail's.
    recording_callback(client, sid="RE" + "3" * 32)
    call.refresh_from_db()
    assert call.recording_sid == RECORDING_SID


def test_a_recording_callback_before_the_action_is_kept_and_the_ticket_still_comes(
    client, queues, clock
):
    clock(THURSDAY_NIGHT)
    choose_language(client, "1")
    recording_callback(client, status="in-progress")
    recording_callback(client)
    twiml(leave_voicemail(client))
    call = VoiceCall.objects.get(contact__provider_id=CALL_SID)
    assert call.voicemail and call.recording_sid == RECORDING_SID
    assert Ticket.objects.count() == 1


def test_a_ticket_exists_even_when_the_recording_callback_never_comes(client, queues, clock):
    clock(THURSDAY_NIGHT)
    choose_language(client, "1")
    twiml(leave_voicemail(client))
    assert Ticket.objects.exists()
    assert VoiceCall.objects.get(contact__provider_id=CALL_SID).recording_sid == ""


def test_a_recording_of_a_call_we_never_saw_is_acknowledged_and_stores_nothing(client, queues):
    assert recording_callback(client, CallSid="CA" + "9" * 32).status_code == 204
    assert not VoiceCall.objects.exclude(recording_sid="").exists()


@pytest.mark.parametrize("path", ["/twilio/voice/voicemail", "/twilio/voice/voicemail-recording"])
def test_unsigned_voicemail_webhooks_are_refused_and_store_nothing(client, queues, clock, path):
    clock(THURSDAY_NIGHT)
    choose_language(client, "1")
    params = call_params(
        RecordingSid=RECORDING_SID,
        RecordingUrl=RECORDING_URL,
        RecordingDuration="37",
        RecordingStatus="completed",
    )
    assert client.post(path, params).status_code == 403
    assert signed_post(client, path, params, token="another-token").status_code == 403
    call = VoiceCall.objects.get(contact__provider_id=CALL_SID)
    assert not call.voicemail and call.recording_sid == ""
    assert not Ticket.objects.exists()


# --- Mongolian ----------------------------------------------------------------------------
def test_the_language_menu_offers_mongolian_on_5(client, queues):
    signed_post(client, "/twilio/voice/incoming", call_params())
    root = twiml(signed_post(client, "/twilio/voice/menu", call_params(Digits="2")))
    gather = root.find("Gather")
    assert "Mongolian" in gather.get("hints")
    assert PROMPTS["mn"].language_option == "Монгол хэлээр 5 дарна уу."


@pytest.mark.parametrize("answer", [{"Digits": "5"}, {"SpeechResult": "Монгол"}])
def test_a_mongolian_caller_waits_for_the_foreign_language_team_in_mongolian(
    client, queues, clock, caplog, answer
):
    _, foreign = queues
    clock(THURSDAY_MORNING)
    signed_post(client, "/twilio/voice/incoming", call_params())
    root = twiml(signed_post(client, "/twilio/voice/language", call_params(**answer)))
    assert root.find("Enqueue").text == "foreign"
    contact = Contact.objects.get(provider_id=CALL_SID)
    assert (contact.queue, contact.language) == (foreign, "mn")
    # No recording in the repository yet: the prompt is said in English, and logged.
    assert says(root)[0] == ("en-US", PROMPTS["en"].queued)
    assert "mn/queued is not recorded" in caplog.text


def test_recorded_mongolian_prompts_are_played_from_an_absolute_url(
    client, queues, clock, settings, tmp_path
):
    prompts = tmp_path / "voice" / "prompts" / "mn"
    prompts.mkdir(parents=True)
    for key in ("language_option", "queued", "position", "after_hours", "goodbye"):
        (prompts / f"{key}.wav").write_bytes(b"RIFF")
    settings.STATICFILES_DIRS = [tmp_path]
    base = f"{django_settings.PUBLIC_BASE_URL}/static/voice/prompts/mn"

    signed_post(client, "/twilio/voice/incoming", call_params())
    menu = twiml(signed_post(client, "/twilio/voice/menu", call_params(Digits="2")))
    assert [play.text for play in menu.iter("Play")] == [f"{base}/language_option.wav"]

    clock(THURSDAY_MORNING)
    root = twiml(signed_post(client, "/twilio/voice/language", call_params(Digits="5")))
    assert root.find("Play").text == f"{base}/queued.wav" and not says(root)
    # The place in the queue: the recording says "please hold", without the numbers.
    mongolian = SkillFactory(code="lang-mn", kind=Skill.Kind.LANGUAGE)
    agent = AgentFactory(skills=[mongolian])
    agent_set_presence(agent=agent, presence=Presence.BREAK, reason="교육", dispatch=False)
    wait = twiml(signed_post(client, "/twilio/voice/wait", call_params()))
    assert [play.text for play in wait.iter("Play")] == [f"{base}/position.wav"]


def test_a_mongolian_caller_after_hours_can_leave_a_voicemail(client, queues, clock):
    clock(THURSDAY_NIGHT)
    root = choose_language(client, "5")
    assert [verb.tag for verb in root] == ["Say", "Record", "Say", "Hangup"]
    assert says(root)[0] == ("en-US", PROMPTS["en"].after_hours)  # not recorded yet
    twiml(leave_voicemail(client))
    assert "민원인 언어: 몽골어" in Ticket.objects.get().description


def test_a_mongolian_call_is_offered_only_to_an_agent_who_speaks_mongolian(client, queues, clock):
    english = SkillFactory(code="lang-en", kind=Skill.Kind.LANGUAGE)
    mongolian = SkillFactory(code="lang-mn", kind=Skill.Kind.LANGUAGE)
    clock(THURSDAY_MORNING)
    choose_language(client, "5")
    contact = Contact.objects.get(provider_id=CALL_SID)
    speaks_english = AgentFactory(skills=[english])
    agent_set_presence(agent=speaks_english, presence=Presence.AVAILABLE, dispatch=False)
    routing.router_dispatch()
    assert not Offer.objects.filter(contact=contact).exists()
    speaks_mongolian = AgentFactory(skills=[mongolian])
    agent_set_presence(agent=speaks_mongolian, presence=Presence.AVAILABLE, dispatch=False)
    routing.router_dispatch()
    assert Offer.objects.get(contact=contact).agent == speaks_mongolian


# --- voice_prompts ------------------------------------------------------------------------
def test_voice_prompts_prints_the_script_and_check_lists_what_is_not_recorded(settings, tmp_path):
    settings.STATICFILES_DIRS = [tmp_path]
    out = StringIO()
    call_command("voice_prompts", stdout=out)
    assert "static/voice/prompts/mn/language_option.wav\tMISSING\tМонгол хэлээр 5 дарна уу." in (
        out.getvalue()
    )
    with pytest.raises(CommandError, match=f"{len(prompt_keys())} recorded prompts are missing"):
        call_command("voice_prompts", "--check", stdout=StringIO())

    prompts = tmp_path / "voice" / "prompts" / "mn"
    prompts.mkdir(parents=True)
    for key in prompt_keys():
        (prompts / f"{key}.mp3").write_bytes(b"ID3")
    out = StringIO()
    call_command("voice_prompts", "--check", stdout=out)
    assert "Every recorded prompt is there." in out.getvalue()
