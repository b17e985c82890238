"""Every workspace: anonymous users go to the login page, other roles get 403."""

import re

import pytest
from django.urls import reverse

from callcenter.models import AgentPresenceEvent, Presence

pytestmark = pytest.mark.django_db

WORKSPACES = {
    "agent-console": "agent_user",
    "supervisor-dashboard": "supervisor_user",
    "department-inbox": "officer_user",
}


@pytest.mark.parametrize("url_name", [*WORKSPACES, "home"])
def test_anonymous_visitor_is_sent_to_login(client, url_name):
    url = reverse(url_name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("url_name,owner", WORKSPACES.items())
@pytest.mark.parametrize("persona", ["agent_user", "supervisor_user", "officer_user"])
def test_each_workspace_is_only_for_its_role(client, request, url_name, owner, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse(url_name))
    assert response.status_code == (200 if persona == owner else 403)


def test_administrator_may_open_the_supervisor_dashboard(client, administrator_user):
    client.force_login(administrator_user)
    assert client.get(reverse("supervisor-dashboard")).status_code == 200


@pytest.mark.parametrize(
    "persona,destination",
    [
        ("agent_user", "agent-console"),
        ("supervisor_user", "supervisor-dashboard"),
        ("officer_user", "department-inbox"),
        ("administrator_user", "admin:index"),
    ],
)
def test_home_sends_each_role_to_its_workspace(client, request, persona, destination):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse(destination)


def test_user_without_role_is_told_to_ask_an_administrator(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password="x" * 12))
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "관리자" in response.content.decode()


def test_login_page_is_korean_by_default(client):
    response = client.get(reverse("login"))
    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ko">' in page
    assert "로그인" in page
    assert 'name="username"' in page and 'name="password"' in page


def test_login_page_switches_to_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    page = client.get(reverse("login")).content.decode()
    assert '<html lang="en">' in page
    assert "Log in to Open120" in page


def test_agent_logs_in_with_password_and_lands_on_console(client, agent_user):
    response = client.post(
        reverse("login"), {"username": "minji", "password": "correct-horse-battery"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("agent-console")
    assert "상담사 콘솔" in response.content.decode()


def test_wrong_password_shows_a_form_error(client, agent_user):
    response = client.post(reverse("login"), {"username": "minji", "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


def test_agent_changes_presence_from_the_console(client, agent_user):
    client.force_login(agent_user)
    response = client.post(reverse("agent-console"), {"presence": "available", "reason": ""})
    assert response.status_code == 302
    agent_user.agent.refresh_from_db()
    assert agent_user.agent.presence == Presence.AVAILABLE
    assert AgentPresenceEvent.objects.filter(agent=agent_user.agent, presence="available").exists()


def test_a_break_without_reason_is_a_form_error(client, agent_user):
    client.force_login(agent_user)
    response = client.post(reverse("agent-console"), {"presence": "break", "reason": ""})
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    agent_user.agent.refresh_from_db()
    assert agent_user.agent.presence == Presence.OFFLINE


def test_officer_sees_only_their_departments_tickets(client, officer_user, other_officer_user):
    from tests.factories import CitizenFactory
    from tickets.services import ticket_create, ticket_transfer

    ours = ticket_create(subject="포트홀 보수 요청", channel="voice", citizen=CitizenFactory())
    theirs = ticket_create(subject="자동차세 이의신청", channel="voice")
    ticket_transfer(ticket=ours, department=officer_user.officer.department, actor=None)
    ticket_transfer(ticket=theirs, department=other_officer_user.officer.department, actor=None)

    client.force_login(officer_user)
    page = client.get(reverse("department-inbox")).content.decode()
    assert ours.number in page and "포트홀 보수 요청" in page
    assert theirs.number not in page


def test_admin_site_is_closed_to_agents(client, agent_user):
    client.force_login(agent_user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_static_assets_are_served_locally(client, supervisor_user):
    client.force_login(supervisor_user)
    page = client.get(reverse("supervisor-dashboard")).content.decode()
    assert "/static/vendor/bootstrap/css/bootstrap.min.css" in page
    assert "/static/vendor/chart.js/chart.umd.min.js" in page
    assert "htmx" in page
    assert "cdn" not in page.lower()


def test_an_english_browser_still_gets_korean_until_english_is_chosen(client):
    page = client.get(reverse("login"), headers={"accept-language": "en-US,en;q=0.9"})
    assert '<html lang="ko">' in page.content.decode()
    assert page["Content-Language"] == "ko"


@pytest.mark.django_db
def test_the_presence_list_agrees_with_the_badge_when_the_system_set_not_responding(
    client, agent_user
):
    from callcenter.models import PresenceReason
    from callcenter.services.presence import agent_set_presence

    agent_set_presence(
        agent=agent_user.agent,
        presence=Presence.NOT_RESPONDING,
        reason=PresenceReason.OFFER_MISSED,
        dispatch=False,
    )
    client.force_login(agent_user)
    page = client.get(reverse("agent-console")).content.decode()
    assert '<option value="not_responding" selected disabled>응답 없음</option>' in page
    assert "상담 요청 응답 없음" in page


@pytest.mark.django_db
def test_a_console_closed_too_long_shows_offline_and_why(client, agent_user):
    from callcenter.models import PresenceReason
    from callcenter.services.presence import agent_set_presence

    agent_set_presence(
        agent=agent_user.agent,
        presence=Presence.OFFLINE,
        reason=PresenceReason.CONSOLE_CLOSED,
        dispatch=False,
    )
    client.force_login(agent_user)
    page = client.get(reverse("agent-console")).content.decode()
    assert '<option value="offline" selected>' in page
    assert "콘솔 연결 끊김" in page


@pytest.mark.django_db
def test_nobody_can_choose_not_responding_themselves(client, agent_user):
    client.force_login(agent_user)
    response = client.post(reverse("agent-console"), {"presence": "not_responding", "reason": ""})
    assert response.status_code == 200
    assert "시스템만" in response.content.decode()
    agent_user.agent.refresh_from_db()
    assert agent_user.agent.presence == Presence.OFFLINE


def test_the_favicon_is_served_and_linked_from_every_page(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(icon.streaming_content)
    for url in ("/accounts/login/", "/chat/"):
        page = client.get(url).text
        link = re.search(r'<link rel="icon" href="([^"]+)"', page)
        assert link and link[1].endswith("favicon.svg"), url
        assert client.get(link[1]).status_code == 200
