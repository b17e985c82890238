"""Call-backs: one service creates them (one phone format), their state only moves forward."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from callcenter.models import CallbackEvent, CallbackRequest
from callcenter.services.callbacks import (
    CallbackError,
    CallbackForbidden,
    callback_attempt_record,
    callback_cancel,
    callback_complete,
    callback_reassign,
    callback_request_create,
    callback_take,
    callback_take_next,
)
from callcenter.services.conversations import chat_callback_request, chat_start
from tests import factories
from tickets.services import category_get_or_create_path, ticket_create, ticket_resolve
from tickets.services.department import ticket_answer_deliver
from tickets.services.surveys import surveys_send_due

pytestmark = pytest.mark.django_db

Source = CallbackRequest.Source
Status = CallbackRequest.Status
Result = CallbackRequest.Result
DAYTIME = datetime(2026, 3, 10, 14, 0, tzinfo=ZoneInfo("Asia/Seoul"))


@pytest.fixture
def queue():
    return factories.QueueFactory(code="general", name="일반")


def request_callback(queue, phone="010-3333-4444", **kwargs) -> CallbackRequest:
    return callback_request_create(phone=phone, source=Source.CONSOLE, queue=queue, **kwargs)


def stored_phones() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM callcenter_callbackrequest ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def test_the_four_entry_points_store_the_number_in_one_format_through_the_one_service(
    client, agent_user, officer_user
):
    # 1. The agent's ticket form, number typed with dashes.
    contact = factories.ContactFactory(
        citizen=factories.CitizenFactory(phone="+821011112222"),
        agent=agent_user.agent,
        queued_at=timezone.now() - timedelta(minutes=2),
        answered_at=timezone.now(),
    )
    client.force_login(agent_user)
    response = client.post(
        reverse("contact-ticket", args=[contact.pk]),
        {
            "category": category_get_or_create_path(path="교통/주정차").pk,
            "subject": "불법주차",
            "outcome": "open",
            "callback": "on",
            "callback_phone": "010-3333-4444",
        },
    )
    assert response.status_code == 200
    # 2. A web chat with no agent free, digits only.
    chat = factories.QueueFactory(code="chat", channels=["webchat"])
    session, _token = chat_start(name="홍길동", phone="", language="ko", queue=chat)
    chat_callback_request(session=session, phone="01055556666", note="오후에 전화 주세요")
    # 3. A happy call for a citizen who needs assistance.
    assisted = factories.CitizenFactory(phone="+82 10-7777-8888", needs_assistance=True)
    ticket = ticket_create(
        subject="가로등", channel="voice", citizen=assisted, created_at=DAYTIME - timedelta(hours=1)
    )
    ticket_resolve(ticket=ticket, actor=None, answer="수리합니다.", at=DAYTIME)
    surveys_send_due(now=DAYTIME)
    # 4. A department's answer delivered by a call-back.
    answered = ticket_create(
        subject="포트홀", channel="voice", citizen=factories.CitizenFactory(phone="010 9999 0000")
    )
    ticket_answer_deliver(ticket=answered, actor=officer_user, text="보수 완료")

    assert stored_phones() == ["+821033334444", "+821055556666", "+821077778888", "+821099990000"]
    created = CallbackEvent.objects.filter(type=CallbackEvent.Type.CREATED)
    assert sorted(event.data["source"] for event in created) == sorted(
        [Source.CONSOLE, Source.CHAT, Source.SURVEY, Source.DEPARTMENT_ANSWER]
    )
    assert all(c.queue is not None for c in CallbackRequest.objects.all())


def test_a_second_request_for_the_same_number_and_queue_joins_the_open_one(queue):
    first = request_callback(queue, "010-3333-4444", note="주차 문의")
    again = callback_request_create(
        phone="+82 10 3333 4444", source=Source.CHAT, queue=queue, note="다시 요청"
    )
    other_queue = request_callback(factories.QueueFactory(code="foreign"), "01033334444")
    assert again.pk == first.pk != other_queue.pk
    again.refresh_from_db()
    assert again.note == "주차 문의 / 다시 요청"
    assert [e.type for e in again.events.all()] == ["created", "requested_again"]
    assert CallbackRequest.objects.count() == 2


def test_a_number_that_is_not_a_phone_number_is_refused_and_nothing_is_stored(queue):
    with pytest.raises(ValidationError):
        request_callback(queue, "12")
    assert not CallbackRequest.objects.exists()


def test_the_requester_gets_a_citizen_record_so_looking_at_the_number_can_be_logged(queue):
    callback = request_callback(queue, "010-4444-5555")
    assert callback.citizen is not None and callback.citizen.phone == "+821044445555"


def test_a_taken_call_back_cannot_be_taken_by_another_agent(queue, agent_user, other_agent_user):
    callback = request_callback(queue)
    callback_take(callback=callback, agent=agent_user.agent)
    with pytest.raises(CallbackError, match="김민지"):
        callback_take(callback=callback, agent=other_agent_user.agent)
    callback.refresh_from_db()
    assert (callback.status, callback.assigned_to) == (Status.TAKEN, agent_user.agent)
    taken = callback.events.get(type=CallbackEvent.Type.TAKEN)
    assert taken.actor == agent_user and taken.created_at is not None


def test_reached_then_done_records_who_and_what(queue, agent_user):
    callback = request_callback(queue)
    callback_take(callback=callback, agent=agent_user.agent)
    callback = callback_attempt_record(
        callback=callback, user=agent_user, result=Result.REACHED, note="안내 완료"
    )
    assert callback.status == Status.CALLED
    callback = callback_complete(callback=callback, user=agent_user)
    assert callback.status == Status.DONE
    attempt = callback.events.get(type=CallbackEvent.Type.ATTEMPTED)
    assert (attempt.actor, attempt.data["result"], attempt.data["note"]) == (
        agent_user,
        "reached",
        "안내 완료",
    )
    assert (attempt.data["from"], attempt.data["to"]) == ("taken", "called")


def test_the_third_unanswered_call_fails_the_call_back_and_a_wrong_number_at_once(
    queue, agent_user
):
    callback = request_callback(queue)
    callback_take(callback=callback, agent=agent_user.agent)
    for expected in (Status.TAKEN, Status.TAKEN, Status.FAILED):
        callback = callback_attempt_record(
            callback=callback, user=agent_user, result=Result.NO_ANSWER
        )
        assert callback.status == expected
    assert callback.attempts == 3
    wrong = request_callback(queue, "010-6666-7777")
    callback_take(callback=wrong, agent=agent_user.agent)
    wrong = callback_attempt_record(callback=wrong, user=agent_user, result=Result.WRONG_NUMBER)
    assert wrong.status == Status.FAILED


def test_states_only_move_forward(queue, agent_user, supervisor_user):
    callback = request_callback(queue)
    with pytest.raises(CallbackError):
        callback_attempt_record(callback=callback, user=agent_user, result=Result.REACHED)
    with pytest.raises(CallbackError):
        callback_complete(callback=callback, user=supervisor_user)
    callback_take(callback=callback, agent=agent_user.agent)
    callback_attempt_record(callback=callback, user=agent_user, result=Result.REACHED)
    callback_complete(callback=callback, user=agent_user)
    for stale in (
        lambda: callback_take(callback=callback, agent=agent_user.agent),
        lambda: callback_attempt_record(callback=callback, user=agent_user, result="no_answer"),
        lambda: callback_complete(callback=callback, user=agent_user),
        lambda: callback_cancel(callback=callback, user=supervisor_user, reason="중복"),
        lambda: callback_reassign(callback=callback, agent=agent_user.agent, user=supervisor_user),
    ):
        with pytest.raises(CallbackError):
            stale()
    callback.refresh_from_db()
    assert callback.status == Status.DONE


def test_only_the_owner_or_a_supervisor_records_the_outcome(
    queue, agent_user, other_agent_user, supervisor_user
):
    callback = request_callback(queue)
    callback_take(callback=callback, agent=agent_user.agent)
    with pytest.raises(CallbackForbidden):
        callback_attempt_record(callback=callback, user=other_agent_user, result="reached")
    callback = callback_attempt_record(callback=callback, user=supervisor_user, result="reached")
    assert callback.status == Status.CALLED


def test_supervisors_reassign_and_cancel_and_agents_cannot(
    queue, agent_user, other_agent_user, supervisor_user
):
    callback = request_callback(queue)
    with pytest.raises(CallbackForbidden):
        callback_cancel(callback=callback, user=agent_user, reason="필요 없음")
    callback = callback_reassign(
        callback=callback, agent=other_agent_user.agent, user=supervisor_user
    )
    assert (callback.status, callback.assigned_to) == (Status.TAKEN, other_agent_user.agent)
    callback = callback_cancel(callback=callback, user=supervisor_user, reason="문자로 안내함")
    assert callback.status == Status.CANCELLED
    assert callback.events.last().data["reason"] == "문자로 안내함"


def test_take_next_gives_the_oldest_open_call_back_of_a_queue_the_agent_serves(agent_user):
    general = factories.QueueFactory(code="general")
    sign = factories.QueueFactory(code="sign")
    sign.required_skills.add(factories.SkillFactory())
    now = timezone.now()
    newer = request_callback(general, "010-1000-0001", at=now - timedelta(minutes=5))
    older = request_callback(general, "010-1000-0002", at=now - timedelta(minutes=30))
    request_callback(sign, "010-1000-0003", at=now - timedelta(hours=2))
    assert callback_take_next(agent=agent_user.agent) == older
    assert callback_take_next(agent=agent_user.agent) == newer
    assert callback_take_next(agent=agent_user.agent) is None
