"""The call-back work list: who may see it, taking a call-back, recording what came of it."""

import pytest
from django.urls import reverse

from callcenter.models import CallbackRequest, PersonalDataAccess
from callcenter.services.callbacks import callback_request_create, callback_take
from tests import factories

pytestmark = pytest.mark.django_db

Status = CallbackRequest.Status


@pytest.fixture
def client(client, settings):
    """Pages in English, so the tests read the msgids (Korean is the default)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def callback():
    """홍길동 asked for a call-back in the general queue."""
    return callback_request_create(
        phone="010-3333-4444",
        source=CallbackRequest.Source.CHAT,
        citizen=factories.CitizenFactory(name="홍길동", phone="+821033334444"),
        queue=factories.QueueFactory(code="general", name="일반"),
        note="오후에 연락 부탁드려요",
    )


def test_anonymous_visitors_are_sent_to_log_in(client, callback):
    for url in (reverse("callback-list"), reverse("callback-detail", args=[callback.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_officers_and_citizens_without_a_centre_role_are_refused(client, officer_user, callback):
    client.force_login(officer_user)
    assert client.get(reverse("callback-list")).status_code == 403
    assert client.post(reverse("callback-take", args=[callback.pk])).status_code == 403
    client.force_login(factories.UserFactory(username="citizen-account"))
    assert client.get(reverse("callback-list")).status_code == 403


def test_agents_and_supervisors_see_the_list_with_a_masked_number(
    client, agent_user, supervisor_user, callback
):
    for user in (agent_user, supervisor_user):
        client.force_login(user)
        page = client.get(reverse("callback-list")).content.decode()
        assert "홍길동" in page and "010-****-4444" in page and "일반" in page
        # The number in any unmasked spelling (not just "3333": a timestamp's microseconds
        # may hold it, as one run's "04:23:00.333349" did).
        for unmasked in ("010-3333-4444", "01033334444", "+821033334444", "-3333-"):
            assert unmasked not in page
        assert "Open" in page


def test_the_list_filters_by_state_and_queue(client, agent_user, callback):
    other = callback_request_create(
        phone="010-5555-6666",
        source=CallbackRequest.Source.CONSOLE,
        queue=factories.QueueFactory(code="foreign", name="외국어"),
    )
    client.force_login(agent_user)
    listed = client.get(reverse("callback-list"), {"queue": other.queue_id}).context["callbacks"]
    assert list(listed) == [other]
    done = client.get(reverse("callback-list"), {"status": "done"}).context["callbacks"]
    assert list(done) == []


def test_an_agent_takes_a_call_back_sees_the_number_and_records_the_outcome(
    client, agent_user, callback
):
    client.force_login(agent_user)
    response = client.post(reverse("callback-take", args=[callback.pk]))
    assert response.status_code == 302
    callback.refresh_from_db()
    assert (callback.status, callback.assigned_to) == (Status.TAKEN, agent_user.agent)

    revealed = client.post(reverse("callback-reveal-phone", args=[callback.pk]))
    assert "010-3333-4444" in revealed.content.decode()
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.citizen, access.field) == (agent_user, callback.citizen, "phone")

    response = client.post(
        reverse("callback-outcome", args=[callback.pk]),
        {"result": "reached", "note": "서류 안내 완료"},
    )
    assert response.status_code == 302
    callback.refresh_from_db()
    assert callback.status == Status.CALLED
    page = client.get(reverse("callback-detail", args=[callback.pk])).content.decode()
    assert "서류 안내 완료" in page and "Reached the citizen" in page

    assert client.post(reverse("callback-complete", args=[callback.pk])).status_code == 302
    callback.refresh_from_db()
    assert callback.status == Status.DONE


def test_a_second_agent_cannot_take_or_call_a_taken_call_back(
    client, agent_user, other_agent_user, callback
):
    callback_take(callback=callback, agent=agent_user.agent)
    client.force_login(other_agent_user)
    response = client.post(reverse("callback-take", args=[callback.pk]))
    assert response.status_code == 409
    assert "김민지 has already taken this call-back." in response.content.decode()
    assert client.post(reverse("callback-reveal-phone", args=[callback.pk])).status_code == 403
    response = client.post(reverse("callback-outcome", args=[callback.pk]), {"result": "reached"})
    assert response.status_code == 403
    callback.refresh_from_db()
    assert (callback.status, callback.assigned_to) == (Status.TAKEN, agent_user.agent)
    assert not PersonalDataAccess.objects.exists()


def test_a_stale_outcome_on_a_closed_call_back_is_refused(client, agent_user, callback):
    client.force_login(agent_user)
    client.post(reverse("callback-take", args=[callback.pk]))
    client.post(reverse("callback-outcome", args=[callback.pk]), {"result": "wrong_number"})
    client.post(reverse("callback-complete", args=[callback.pk]))
    response = client.post(reverse("callback-outcome", args=[callback.pk]), {"result": "reached"})
    assert response.status_code == 409
    callback.refresh_from_db()
    assert (callback.status, callback.result) == (Status.DONE, "wrong_number")


def test_an_outcome_without_a_result_is_a_form_error(client, agent_user, callback):
    client.force_login(agent_user)
    client.post(reverse("callback-take", args=[callback.pk]))
    response = client.post(reverse("callback-outcome", args=[callback.pk]), {"note": "?"})
    assert response.status_code == 422
    assert "result" in response.context["outcome_form"].errors


def test_supervisors_reassign_and_cancel_and_agents_get_403(
    client, agent_user, other_agent_user, supervisor_user, callback
):
    client.force_login(agent_user)
    url = reverse("callback-cancel", args=[callback.pk])
    assert client.post(url, {"reason": "x"}).status_code == 403
    client.force_login(supervisor_user)
    response = client.post(
        reverse("callback-reassign", args=[callback.pk]), {"agent": other_agent_user.agent.pk}
    )
    assert response.status_code == 302
    callback.refresh_from_db()
    assert callback.assigned_to == other_agent_user.agent
    assert client.post(url, {"reason": ""}).status_code == 422
    assert client.post(url, {"reason": "문자로 안내함"}).status_code == 302
    callback.refresh_from_db()
    assert callback.status == Status.CANCELLED


def test_the_console_shows_open_call_backs_and_takes_the_next_one(client, agent_user, callback):
    client.force_login(agent_user)
    console = client.get(reverse("agent-console")).content.decode()
    assert reverse("callback-badge") in console
    badge = client.get(reverse("callback-badge")).content.decode()
    assert "1 open" in badge and reverse("callback-take-next") in badge
    response = client.post(reverse("callback-take-next"))
    assert response["Location"] == reverse("callback-detail", args=[callback.pk])
    callback.refresh_from_db()
    assert callback.assigned_to == agent_user.agent
    assert "0 open" in client.get(reverse("callback-badge")).content.decode()


def test_the_main_navigation_links_the_list_for_centre_staff_only(client, agent_user, officer_user):
    client.force_login(agent_user)
    assert reverse("callback-list") in client.get(reverse("ticket-list")).content.decode()
    client.force_login(officer_user)
    page = client.get(reverse("department-inbox")).content.decode()
    assert reverse("callback-list") not in page


def test_the_admin_shows_the_history_read_only(client, administrator_user, callback):
    client.force_login(administrator_user)
    url = reverse("admin:callcenter_callbackrequest_change", args=[callback.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Requested" in page.content.decode()
    assert client.get(reverse("admin:callcenter_callbackrequest_add")).status_code == 403
