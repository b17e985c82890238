"""Happy-call surveys: who gets one, when it goes out, and the single-use public page."""

import re
import threading
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import signing
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callcenter.models import CallbackRequest, Channel
from channels_app.models import OutboundMessage
from tests import factories
from tickets import selectors
from tickets.models import Survey, SurveyAnswer, TicketEvent
from tickets.services import (
    survey_answer,
    surveys_send_due,
    ticket_create,
    ticket_reopen,
    ticket_resolve,
)
from tickets.services.surveys import (
    LINK_SALT,
    SkipReason,
    SurveyAlreadyAnswered,
    survey_send_after,
    survey_token,
)

SEOUL = ZoneInfo("Asia/Seoul")
DAYTIME = datetime(2026, 3, 10, 14, 0, tzinfo=SEOUL)


def seoul(*args) -> datetime:
    return datetime(*args, tzinfo=SEOUL)


def resolve(citizen, *, at=DAYTIME, channel=Channel.VOICE, subject="가로등이 꺼졌어요"):
    ticket = ticket_create(
        subject=subject, channel=channel, citizen=citizen, created_at=at - timedelta(hours=1)
    )
    return ticket_resolve(ticket=ticket, actor=None, answer="내일 수리합니다.", at=at)


def sent_survey(citizen, *, at=DAYTIME, **kwargs) -> Survey:
    ticket = resolve(citizen, at=at, **kwargs)
    surveys_send_due(now=at)
    return ticket.surveys.get()


def survey_path(survey: Survey) -> str:
    return reverse("survey", args=[survey_token(survey)])


@pytest.fixture
def english(client):
    """UI strings in English (the msgids), so assertions hold before and after translation."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- Scheduling -------------------------------------------------------------------------------


def test_resolving_a_ticket_schedules_an_sms_survey_at_once_in_the_daytime(citizen):
    ticket = resolve(citizen)
    survey = ticket.surveys.get()
    assert survey.status == Survey.Status.SCHEDULED
    assert survey.method == Survey.Method.SMS
    assert survey.send_after == DAYTIME


def test_a_ticket_without_a_citizen_gets_no_survey(db):
    ticket = resolve(None)
    assert not Survey.objects.exists()
    assert ticket.status == "resolved"


def test_a_citizen_who_opted_out_gets_a_skipped_survey_that_says_why(citizen):
    citizen.survey_opt_out = True
    citizen.save(update_fields=["survey_opt_out"])
    survey = resolve(citizen).surveys.get()
    assert survey.status == Survey.Status.SKIPPED
    assert survey.skip_reason == SkipReason.OPTED_OUT
    assert surveys_send_due(now=DAYTIME) == 0
    assert not OutboundMessage.objects.exists()


def test_a_citizen_gets_at_most_one_survey_in_7_days(citizen):
    resolve(citizen, at=DAYTIME)
    second = resolve(citizen, at=DAYTIME + timedelta(days=6, hours=23)).surveys.get()
    assert second.status == Survey.Status.SKIPPED
    assert second.skip_reason == SkipReason.RECENT_SURVEY
    third = resolve(citizen, at=DAYTIME + timedelta(days=7, minutes=1)).surveys.get()
    assert third.status == Survey.Status.SCHEDULED


def test_another_citizens_survey_does_not_count_against_the_7_days(citizen):
    resolve(factories.CitizenFactory(), at=DAYTIME)
    assert resolve(citizen, at=DAYTIME).surveys.get().status == Survey.Status.SCHEDULED


@pytest.mark.parametrize(
    ("resolved_at", "expected"),
    [
        (seoul(2026, 3, 10, 20, 59), seoul(2026, 3, 10, 20, 59)),
        (seoul(2026, 3, 10, 21, 0), seoul(2026, 3, 11, 9, 0)),
        (seoul(2026, 3, 10, 23, 30), seoul(2026, 3, 11, 9, 0)),
        (seoul(2026, 3, 11, 0, 10), seoul(2026, 3, 11, 9, 0)),
        (seoul(2026, 3, 11, 8, 59), seoul(2026, 3, 11, 9, 0)),
        (seoul(2026, 3, 11, 9, 0), seoul(2026, 3, 11, 9, 0)),
    ],
)
def test_no_survey_is_sent_at_night_in_seoul(citizen, resolved_at, expected):
    survey = resolve(citizen, at=resolved_at).surveys.get()
    assert survey.send_after == expected
    assert survey_send_after(resolved_at) == expected


def test_night_is_counted_in_seoul_time_whatever_the_zone_given(citizen):
    # 14:30 UTC is 23:30 in Seoul.
    utc = datetime(2026, 3, 10, 14, 30, tzinfo=ZoneInfo("UTC"))
    assert survey_send_after(utc) == seoul(2026, 3, 11, 9, 0)


def test_a_ticket_resolved_at_2330_gets_its_sms_at_0900_the_next_day(citizen):
    resolve(citizen, at=seoul(2026, 3, 10, 23, 30))
    assert surveys_send_due(now=seoul(2026, 3, 10, 23, 31)) == 0
    assert surveys_send_due(now=seoul(2026, 3, 11, 8, 59)) == 0
    assert not OutboundMessage.objects.exists()
    assert surveys_send_due(now=seoul(2026, 3, 11, 9, 0)) == 1
    assert OutboundMessage.objects.get().to == "+821012345678"


def test_the_sender_does_nothing_at_night_even_for_a_due_survey(citizen):
    resolve(citizen, at=seoul(2026, 3, 10, 20, 0))
    assert surveys_send_due(now=seoul(2026, 3, 10, 21, 0)) == 0
    assert Survey.objects.get().status == Survey.Status.SCHEDULED


@pytest.fixture
def kakao_bizmessages(settings):
    """KakaoTalk business messages (알림톡) switched on."""
    settings.KAKAO_BIZMSG_ENABLED = True
    settings.KAKAO_BIZMSG_TEMPLATE_SURVEY = "OPEN120_SURVEY"


def test_a_kakao_ticket_gets_its_survey_as_an_alimtalk_from_the_template(
    citizen, kakao_bizmessages
):
    citizen.kakao_user_key = "kakao-user-1"
    citizen.save(update_fields=["kakao_user_key"])
    survey = sent_survey(citizen, channel=Channel.KAKAO)
    assert survey.method == Survey.Method.KAKAO
    message = OutboundMessage.objects.get()
    assert (message.channel, message.to) == ("kakao", "+821012345678")
    assert message.template == "OPEN120_SURVEY"
    url = settings.PUBLIC_BASE_URL + survey_path(survey)
    assert message.body == (
        f"[120] 민원(접수번호 {survey.ticket.number}) 처리에 만족하셨나요? 의견을 들려주세요: {url}"
    )


def test_a_phone_ticket_goes_by_sms_even_when_the_citizen_has_kakao(citizen, kakao_bizmessages):
    citizen.kakao_user_key = "kakao-user-1"
    citizen.save(update_fields=["kakao_user_key"])
    sent_survey(citizen, channel=Channel.VOICE)
    assert OutboundMessage.objects.get().channel == "sms"


def test_a_kakao_ticket_goes_by_sms_while_kakao_business_messages_are_off(citizen):
    citizen.kakao_user_key = "kakao-user-1"
    citizen.save(update_fields=["kakao_user_key"])
    survey = sent_survey(citizen, channel=Channel.KAKAO)
    assert survey.method == Survey.Method.SMS
    message = OutboundMessage.objects.get()
    assert (message.channel, message.to, message.template) == ("sms", "+821012345678", "")


def test_a_kakao_citizen_without_a_phone_is_skipped(db, kakao_bizmessages):
    citizen = factories.CitizenFactory(phone="", kakao_user_key="kakao-user-1")
    survey = resolve(citizen, channel=Channel.KAKAO).surveys.get()
    assert (survey.status, survey.skip_reason) == (Survey.Status.SKIPPED, SkipReason.NO_ADDRESS)


def test_no_survey_is_texted_to_a_citizen_who_sent_stop(citizen):
    citizen.sms_opted_out_at = timezone.now()
    citizen.save(update_fields=["sms_opted_out_at"])
    survey = resolve(citizen, channel=Channel.KAKAO).surveys.get()
    assert survey.status == Survey.Status.SKIPPED
    assert survey.skip_reason == SkipReason.TEXTS_REFUSED
    assert surveys_send_due(now=DAYTIME) == 0
    assert not OutboundMessage.objects.exists()


def test_a_stop_sent_after_scheduling_still_keeps_the_survey_sms_back(citizen):
    resolve(citizen)
    citizen.sms_opted_out_at = timezone.now()
    citizen.save(update_fields=["sms_opted_out_at"])
    assert surveys_send_due(now=DAYTIME) == 0
    survey = Survey.objects.get()
    assert (survey.status, survey.skip_reason) == (
        Survey.Status.SKIPPED,
        SkipReason.TEXTS_REFUSED,
    )
    assert not OutboundMessage.objects.exists()


def test_a_kakao_citizen_who_sent_stop_still_gets_the_alimtalk_survey(citizen, kakao_bizmessages):
    citizen.sms_opted_out_at = timezone.now()
    citizen.save(update_fields=["sms_opted_out_at"])
    survey = sent_survey(citizen, channel=Channel.KAKAO)
    assert survey.method == Survey.Method.KAKAO
    assert OutboundMessage.objects.get().channel == "kakao"


def test_a_citizen_with_no_phone_or_kakao_is_skipped(db):
    survey = resolve(factories.CitizenFactory(phone="")).surveys.get()
    assert (survey.status, survey.skip_reason) == (Survey.Status.SKIPPED, SkipReason.NO_ADDRESS)


def test_a_citizen_who_needs_assistance_gets_a_call_back_instead_of_an_sms(citizen):
    citizen.needs_assistance = True
    citizen.save(update_fields=["needs_assistance"])
    ticket = resolve(citizen)
    surveys_send_due(now=DAYTIME)
    survey = ticket.surveys.get()
    assert survey.method == Survey.Method.CALLBACK
    assert survey.status == Survey.Status.SENT
    callback = CallbackRequest.objects.get()
    assert survey.callback == callback
    assert callback.citizen == citizen
    assert str(callback.phone) == "+821012345678"
    assert callback.note.startswith(f"해피콜: {ticket.number}")
    assert not OutboundMessage.objects.exists()


def test_a_call_back_survey_at_night_waits_for_the_morning(citizen):
    citizen.needs_assistance = True
    citizen.save(update_fields=["needs_assistance"])
    resolve(citizen, at=seoul(2026, 3, 10, 22, 0))
    surveys_send_due(now=seoul(2026, 3, 10, 22, 1))
    assert not CallbackRequest.objects.exists()
    surveys_send_due(now=seoul(2026, 3, 11, 9, 0))
    assert CallbackRequest.objects.count() == 1


def test_the_agent_records_a_call_back_answer_through_the_link_in_the_note(client, citizen):
    citizen.needs_assistance = True
    citizen.save(update_fields=["needs_assistance"])
    survey = sent_survey(citizen)
    link = re.search(r"https?://\S+", CallbackRequest.objects.get().note).group(0)
    response = client.post(urlsplit(link).path, {"score": "5", "solved": "yes"})
    assert response.status_code == 200
    assert SurveyAnswer.objects.get(survey=survey).channel == Channel.VOICE


# --- Sending ----------------------------------------------------------------------------------


def test_a_due_survey_is_sent_by_sms_with_a_link_that_opens_the_survey(client, citizen):
    ticket = resolve(citizen)
    assert surveys_send_due(now=DAYTIME) == 1
    message = OutboundMessage.objects.get()
    assert message.channel == "sms" and message.to == "+821012345678"
    assert ticket.number in message.body
    link = re.search(r"https?://\S+", message.body).group(0)
    assert link.startswith(settings.PUBLIC_BASE_URL + "/survey/")
    survey = ticket.surveys.get()
    assert survey.status == Survey.Status.SENT and survey.sent_at == DAYTIME
    event = ticket.events.get(type=TicketEvent.Type.SURVEY_SENT)
    assert event.data == {"survey": survey.pk, "method": "sms", "message": message.pk}
    assert not event.public

    response = client.get(urlsplit(link).path)
    assert response.status_code == 200
    assert ticket.number in response.text and ticket.subject in response.text
    assert "홍길동" not in response.text and "1234" not in response.text


def test_a_survey_not_yet_due_is_not_sent(citizen):
    resolve(citizen, at=DAYTIME)
    Survey.objects.update(send_after=DAYTIME + timedelta(minutes=5))
    assert surveys_send_due(now=DAYTIME) == 0
    assert surveys_send_due(now=DAYTIME + timedelta(minutes=5)) == 1


def test_running_the_sender_twice_sends_each_survey_once(citizen):
    resolve(citizen)
    assert surveys_send_due(now=DAYTIME) == 1
    assert surveys_send_due(now=DAYTIME + timedelta(minutes=1)) == 0
    assert OutboundMessage.objects.count() == 1
    assert TicketEvent.objects.filter(type=TicketEvent.Type.SURVEY_SENT).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_send_each_survey_exactly_once():
    citizens = [factories.CitizenFactory() for _ in range(30)]
    for citizen in citizens:
        resolve(citizen)
    start = threading.Barrier(3)
    results, errors = [], []

    def run():
        try:
            start.wait()
            results.append(surveys_send_due(now=DAYTIME))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(results) == 30
    assert OutboundMessage.objects.count() == 30
    assert Survey.objects.filter(status=Survey.Status.SENT).count() == 30


def test_a_citizen_who_opts_out_before_the_morning_gets_nothing(citizen):
    resolve(citizen, at=seoul(2026, 3, 10, 23, 0))
    citizen.survey_opt_out = True
    citizen.save(update_fields=["survey_opt_out"])
    assert surveys_send_due(now=seoul(2026, 3, 11, 9, 0)) == 0
    survey = Survey.objects.get()
    assert (survey.status, survey.skip_reason) == (Survey.Status.SKIPPED, SkipReason.OPTED_OUT)


def test_a_ticket_reopened_before_the_survey_went_out_is_not_surveyed(citizen):
    ticket = resolve(citizen, at=seoul(2026, 3, 10, 23, 0))
    ticket_reopen(ticket=ticket, actor=None, reason="아직 안 고쳐졌어요")
    assert surveys_send_due(now=seoul(2026, 3, 11, 9, 0)) == 0
    assert Survey.objects.get().skip_reason == SkipReason.TICKET_REOPENED


def test_a_survey_days_overdue_is_skipped_rather_than_sent_late(citizen):
    resolve(citizen, at=DAYTIME)
    assert surveys_send_due(now=DAYTIME + timedelta(days=3)) == 0
    survey = Survey.objects.get()
    assert (survey.status, survey.skip_reason) == (Survey.Status.SKIPPED, SkipReason.TOO_LATE)


def test_a_survey_message_the_backend_could_not_send_shows_failed_on_the_message(
    citizen, settings, django_capture_on_commit_callbacks
):
    settings.KAKAO_BIZMSG_ENABLED = True
    settings.KAKAO_BIZMSG_APPKEY = ""
    settings.MESSAGING_BACKEND = "twilio"  # no NHN Cloud keys there: the 알림톡 fails
    with django_capture_on_commit_callbacks(execute=True):
        survey = sent_survey(citizen, channel=Channel.KAKAO)
    # Queued counts as sent; the delivery that failed is on the message, with why.
    assert survey.status == Survey.Status.SENT
    message = OutboundMessage.objects.get()
    assert message.status == OutboundMessage.Status.FAILED and "KakaoTalk" in message.error
    assert (message.ticket, message.idempotency_key) == (survey.ticket, f"survey:{survey.pk}")


def test_a_survey_message_is_queued_in_the_batch_and_sent_once_it_commits(
    citizen, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        survey = sent_survey(citizen)
        assert OutboundMessage.objects.get().status == OutboundMessage.Status.QUEUED
    for callback in callbacks:
        callback()
    assert survey.status == Survey.Status.SENT
    assert OutboundMessage.objects.get().status == OutboundMessage.Status.SENT


def test_the_worker_runs_the_sender_every_minute():
    from callcenter.celery import app

    app.loader.import_default_modules()
    entry = settings.CELERY_BEAT_SCHEDULE["surveys-send-due"]
    assert entry["task"] in app.tasks
    assert entry["schedule"] == 60.0


# --- The survey page --------------------------------------------------------------------------


def test_the_survey_page_is_korean_first_mobile_friendly_and_needs_no_login(client, citizen):
    survey = sent_survey(citizen)
    response = client.get(survey_path(survey))
    assert response.status_code == 200
    assert '<html lang="ko">' in response.text
    assert 'name="viewport"' in response.text
    assert response.text.count('type="radio" class="btn-check" name="score"') == 5
    assert "no-store" in response["Cache-Control"]


def test_a_citizen_answers_the_survey_once(english, citizen):
    survey = sent_survey(citizen)
    response = english.post(
        survey_path(survey), {"score": "4", "solved": "yes", "comment": "친절했어요"}
    )
    assert response.status_code == 200
    assert "Thank you for your answers." in response.text
    answer = SurveyAnswer.objects.get()
    assert (answer.survey, answer.ticket, answer.score) == (survey, survey.ticket, 4)
    assert answer.solved is True and answer.comment == "친절했어요"
    assert answer.channel == Channel.SMS
    survey.refresh_from_db()
    assert survey.status == Survey.Status.ANSWERED and survey.answered_at is not None
    event = survey.ticket.events.get(type=TicketEvent.Type.SURVEY_ANSWERED)
    assert event.data == {"survey": survey.pk, "score": 4, "solved": True}


def test_a_second_answer_is_refused_and_writes_nothing(english, citizen):
    survey = sent_survey(citizen)
    english.post(survey_path(survey), {"score": "5", "solved": "yes"})
    response = english.post(survey_path(survey), {"score": "1", "solved": "no"})
    assert response.status_code == 409
    assert "already been answered" in response.text
    assert SurveyAnswer.objects.get().score == 5
    assert TicketEvent.objects.filter(type=TicketEvent.Type.SURVEY_ANSWERED).count() == 1
    again = english.get(survey_path(survey))
    assert again.status_code == 200 and "already been answered" in again.text


def test_the_answer_service_refuses_a_second_answer_too(citizen):
    survey = sent_survey(citizen)
    survey_answer(survey=survey, score=3, solved=None)
    with pytest.raises(SurveyAlreadyAnswered):
        survey_answer(survey=Survey.objects.get(pk=survey.pk), score=2, solved=False)
    assert SurveyAnswer.objects.count() == 1


def test_a_tampered_link_is_not_found(english, citizen):
    survey = sent_survey(citizen)
    token = survey_token(survey)
    forged = signing.dumps(survey.pk + 1, salt="another-salt")
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), forged, "nonsense"):
        response = english.get(reverse("survey", args=[bad]))
        assert response.status_code == 404
        assert "This survey link is not valid." in response.text
    assert english.post(reverse("survey", args=[forged]), {"score": "5"}).status_code == 404
    assert not SurveyAnswer.objects.exists()


class _SignedLongAgo(signing.TimestampSigner):
    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time()) - 15 * 24 * 3600)


def test_an_expired_link_is_gone(english, citizen):
    survey = sent_survey(citizen)
    old = _SignedLongAgo(salt=LINK_SALT).sign_object(survey.pk)
    response = english.post(reverse("survey", args=[old]), {"score": "5", "solved": "yes"})
    assert response.status_code == 410
    assert "expired" in response.text
    assert not SurveyAnswer.objects.exists()


def test_a_link_to_a_survey_never_sent_is_not_found(client, citizen):
    survey = resolve(citizen, at=seoul(2026, 3, 10, 23, 0)).surveys.get()  # still scheduled
    assert client.get(survey_path(survey)).status_code == 404


@pytest.mark.parametrize("score", ["0", "6", "", "abc"])
def test_a_score_outside_1_to_5_is_a_form_error_and_writes_nothing(client, citizen, score):
    survey = sent_survey(citizen)
    response = client.post(survey_path(survey), {"score": score, "solved": "yes"})
    assert response.status_code == 400
    assert 'id="score-errors"' in response.text
    assert not SurveyAnswer.objects.exists()
    survey.refresh_from_db()
    assert survey.status == Survey.Status.SENT


def test_an_empty_submission_is_a_form_error(client, citizen):
    survey = sent_survey(citizen)
    response = client.post(survey_path(survey))
    assert response.status_code == 400
    assert 'id="score-errors"' in response.text and 'id="solved-errors"' in response.text
    assert not SurveyAnswer.objects.exists()


def test_a_comment_over_1000_characters_is_refused(client, citizen):
    survey = sent_survey(citizen)
    response = client.post(
        survey_path(survey), {"score": "3", "solved": "no", "comment": "가" * 1001}
    )
    assert response.status_code == 400
    assert 'id="comment-errors"' in response.text
    assert not SurveyAnswer.objects.exists()


def test_the_survey_form_needs_its_csrf_token(citizen):
    survey = sent_survey(citizen)
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(survey_path(survey), {"score": "5", "solved": "yes"}).status_code == 403
    page = strict.get(survey_path(survey))
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = strict.post(
        survey_path(survey), {"score": "5", "solved": "yes", "csrfmiddlewaretoken": csrf}
    )
    assert response.status_code == 200


def test_staff_signed_in_see_the_same_public_survey(client, agent_user, citizen):
    survey = sent_survey(citizen)
    client.force_login(agent_user)
    assert client.get(survey_path(survey)).status_code == 200


def test_the_citizen_opts_out_from_the_survey_page(english, citizen):
    survey = sent_survey(citizen)
    response = english.post(reverse("survey-opt-out", args=[survey_token(survey)]))
    assert response.status_code == 200
    assert "You will not receive satisfaction surveys any more." in response.text
    citizen.refresh_from_db()
    assert citizen.survey_opt_out
    later = resolve(citizen, at=DAYTIME + timedelta(days=10)).surveys.get()
    assert later.skip_reason == SkipReason.OPTED_OUT


def test_opting_out_skips_a_survey_still_waiting_for_the_morning(client, citizen):
    survey = sent_survey(citizen, at=DAYTIME - timedelta(days=8))
    waiting = resolve(citizen, at=seoul(2026, 3, 10, 23, 0)).surveys.get()
    client.post(reverse("survey-opt-out", args=[survey_token(survey)]))
    waiting.refresh_from_db()
    assert (waiting.status, waiting.skip_reason) == (Survey.Status.SKIPPED, SkipReason.OPTED_OUT)


def test_opting_out_needs_a_post_with_a_valid_token(client, citizen):
    survey = sent_survey(citizen)
    assert client.get(reverse("survey-opt-out", args=[survey_token(survey)])).status_code == 405
    assert client.post(reverse("survey-opt-out", args=["forged:token"])).status_code == 404
    citizen.refresh_from_db()
    assert not citizen.survey_opt_out


# --- Figures ----------------------------------------------------------------------------------


def test_answers_feed_csat_and_the_citizens_word_on_first_contact_resolution(db):
    for score, solved in ((5, True), (4, False), (2, False), (1, True)):
        survey = sent_survey(factories.CitizenFactory())
        survey_answer(survey=survey, score=score, solved=solved)
    # A chat rating counts for CSAT; it asked nothing about the problem being solved.
    SurveyAnswer.objects.create(score=4, channel=Channel.WEBCHAT)
    start = timezone.now() - timedelta(hours=1)
    end = timezone.now() + timedelta(hours=1)
    assert selectors.csat(start=start, end=end) == (3, 5)
    assert selectors.survey_fcr(start=start, end=end) == (2, 4)
    assert selectors.csat(start=end, end=end + timedelta(days=1)) == (0, 0)
