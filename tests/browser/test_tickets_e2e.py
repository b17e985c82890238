"""End to end in Debian's chromium: the ticket pages, the department transfer, happy-call
surveys and /track/.

One server for the module, as `make run` starts it (daphne, SQLite, in-memory layer); the
data come from the real services (tickets.services) in a `manage.py shell` before the
server starts, and each scenario works on its own tickets and citizens. Playwright drives
one browser context per person; screenshots land in tests/artifacts/, and axe-core checks
the citizens' pages against WCAG 2.2 AA.
"""

import asyncio
import re

import pytest
from django.utils import translation
from playwright.async_api import Page, WebSocket, async_playwright, expect

from tests.browser.support import (
    ARTIFACTS,
    PEOPLE,
    axe_violations,
    launch,
    live_server,
    log_in,
    needs_chromium,
    new_page,
)

PHONE_VIEWPORT = {"width": 390, "height": 844}
TRANSFER_NOTE = "도로관리과 확인 부탁드립니다: 포트홀 위치는 시청 앞 사거리입니다."
DEPARTMENT_ANSWER = "3일 안에 포트홀을 보수하겠습니다."
TRACK_ANSWER = "불법 주차 단속 요청을 교통과에 전달했고 단속을 마쳤습니다."
INTERNAL_NOTE = "민원인이 지난주에도 같은 차량을 신고함 (내부 메모)"

SETUP = (
    f"note, answer = {INTERNAL_NOTE!r}, {TRACK_ANSWER!r}\n"
    + PEOPLE
    + """
import json, re
from django.utils import timezone
from callcenter.models import Citizen
from channels_app.models import OutboundMessage
from tickets import services
from tickets.models import Officer, Survey

minji = agent("minji", "김민지")
staff("sora", "supervisor", "박소라")
roads = services.department_get_or_create(name="도로관리과")
services.department_get_or_create(name="세무과")
Officer.objects.create(user=staff("roads", "department_officer", "최도로"), department=roads)
pothole = services.category_get_or_create_path(path="도로/포트홀")
parking = services.category_get_or_create_path(path="교통/불법주정차")

# Transfer: an open ticket assigned to Minji, and a new one the status filter leaves out.
transfer = services.ticket_create(
    subject="시청 앞 포트홀 신고", channel="voice", category=pothole, created_by=minji,
    citizen=Citizen.objects.create(name="홍길동", phone="+821055556666"),
    description="시청 앞 사거리에 큰 포트홀이 있어 위험합니다.",
)
services.ticket_assign(ticket=transfer, assignee=minji, actor=minji)
untouched = services.ticket_create(
    subject="가로등 고장", channel="voice", category=pothole, created_by=minji,
    citizen=Citizen.objects.create(name="박가로", phone="+821033334444"),
)

# Survey: a resolved ticket's happy call, sent at the first moment allowed (not at night).
surveyed = services.ticket_create(
    subject="쓰레기 수거 문의", channel="voice", category=parking, created_by=minji,
    citizen=Citizen.objects.create(name="이영희", phone="+821077778888"),
)
services.ticket_resolve(ticket=surveyed, actor=minji, answer="수거일은 화요일입니다.")
survey = Survey.objects.get(ticket=surveyed)
assert services.surveys_send_due(now=max(timezone.now(), survey.send_after)) == 1
body = OutboundMessage.objects.get(to="+821077778888").body
survey_path = re.search(r"/survey/[^/\\s]+/", body).group(0)

# Track: a resolved ticket with a public answer and an internal note.
tracked = services.ticket_create(
    subject="불법 주차 신고", channel="voice", category=parking, created_by=minji,
    citizen=Citizen.objects.create(name="김철수", phone="+821012345678"),
)
services.ticket_comment(ticket=tracked, actor=minji, text=note)
services.ticket_resolve(ticket=tracked, actor=minji, answer=answer)

print(json.dumps({
    "transfer": {"id": transfer.pk, "number": transfer.number},
    "untouched": {"id": untouched.pk, "number": untouched.number},
    "survey": {"path": survey_path, "number": surveyed.number},
    "tracked": {"id": tracked.pk, "number": tracked.number},
}))
"""
)

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One daphne for the module; yields its base URL and what SETUP made."""
    with live_server(tmp_path_factory.mktemp("tickets-e2e"), SETUP) as running:
        yield running.base, running.data


def socket_hello(page: Page, path: str) -> asyncio.Future:
    """Resolves once a socket the page opens at ``path`` has received its hello frame, so
    a test knows the page is listening before it makes something happen."""
    hello = asyncio.get_running_loop().create_future()

    def on_frame(payload: str | bytes) -> None:
        if not hello.done() and '"type": "hello"' in str(payload):
            hello.set_result(None)

    def on_socket(socket: WebSocket) -> None:
        if socket.url.endswith(path):
            socket.on("framereceived", on_frame)

    page.on("websocket", on_socket)
    return hello


def ko(message: str) -> str:
    """The Korean the server shows for ``message`` (the site's default language)."""
    with translation.override("ko"):
        return translation.gettext(message)


async def test_an_agent_transfers_a_ticket_and_hears_the_department_answer_live(server):
    base, data = server
    number, ticket_id = data["transfer"]["number"], data["transfer"]["id"]
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        agent = await new_page(browser, bypass_csp=True)
        officer = await new_page(browser, bypass_csp=True)
        supervisor = await new_page(browser, bypass_csp=True)

        # The officer has the department inbox open; so do Minji's console and the
        # supervisor's dashboard.
        await log_in(officer, base, "roads")
        officer_hello = socket_hello(officer, "/ws/department/")
        await officer.goto(f"{base}/department/inbox/")
        await expect(officer.locator("#department-inbox")).not_to_contain_text(number)
        await log_in(supervisor, base, "sora")
        supervisor_hello = socket_hello(supervisor, "/ws/agent/")
        await supervisor.goto(f"{base}/supervisor/")
        await log_in(agent, base, "minji")
        console = await agent.context.new_page()
        console.set_default_timeout(15_000)
        console_hello = socket_hello(console, "/ws/agent/")
        await console.goto(f"{base}/agent/")
        await asyncio.wait_for(
            asyncio.gather(officer_hello, supervisor_hello, console_hello), timeout=15
        )

        # Minji filters the list by status and opens the ticket.
        await agent.goto(f"{base}/tickets/")
        rows = agent.locator("table tbody")
        await expect(rows).to_contain_text(data["untouched"]["number"])
        await agent.select_option("#id_status", "open")
        async with agent.expect_navigation():
            await agent.locator("#ticket-filters [type=submit]").first.click()
        assert "status=open" in agent.url
        await expect(rows).to_contain_text(number)
        await expect(rows).not_to_contain_text(data["untouched"]["number"])
        await agent.screenshot(path=str(ARTIFACTS / "ticket-list-open.png"), full_page=True)
        await rows.get_by_role("link", name=number).click()
        await agent.wait_for_url(f"{base}/tickets/{ticket_id}/")

        # The department panel arrives by htmx; Minji transfers the ticket with a note.
        panel = agent.locator(f"#department-panel-{ticket_id}")
        await expect(panel.locator("[name=transfer-department]")).to_be_visible()
        department = await panel.locator(
            "[name=transfer-department] option", has_text="도로관리과"
        ).get_attribute("value")
        await panel.locator("[name=transfer-department]").select_option(department)
        await panel.locator("[name=transfer-note]").fill(TRANSFER_NOTE)
        async with agent.expect_navigation():
            await panel.locator("[type=submit]").last.click()
        await expect(panel).to_contain_text("도로관리과")
        await expect(panel).to_contain_text(TRANSFER_NOTE)
        await agent.screenshot(path=str(ARTIFACTS / "ticket-transferred.png"), full_page=True)

        # The officer hears of it: a toast, and the ticket in the inbox list.
        notice = officer.locator("#ticket-notices .toast[data-kind=transferred]")
        await expect(notice).to_be_visible()
        await expect(notice).to_contain_text(number)
        await expect(notice).to_contain_text(TRANSFER_NOTE)
        await expect(notice.get_by_role("link")).to_have_attribute(
            "href", f"/department/tickets/{ticket_id}/"
        )
        await expect(officer.locator("#department-inbox")).to_contain_text(number)
        await officer.screenshot(path=str(ARTIFACTS / "department-inbox-notice.png"))

        # The officer opens it, looks at the phone (masked until "show") and answers.
        await officer.locator("#department-inbox").get_by_role("link", name=number).click()
        await officer.wait_for_url(f"{base}/department/tickets/{ticket_id}/")
        await expect(officer.locator("[aria-labelledby=inquiry-heading]")).to_contain_text(
            TRANSFER_NOTE
        )
        phone = officer.locator("#citizen-phone")
        await expect(phone).to_have_text("010-****-6666")
        await officer.locator("form.js-reveal-phone button").click()
        await expect(phone).to_have_text("010-5555-6666")
        await expect(officer.locator("form.js-reveal-phone")).to_be_hidden()
        await officer.fill("#id_answer", DEPARTMENT_ANSWER)
        async with officer.expect_navigation():
            await officer.locator(f"form[action$='/{ticket_id}/answer/'] [type=submit]").click()
        await expect(officer.locator("main")).to_contain_text(DEPARTMENT_ANSWER)
        await officer.screenshot(path=str(ARTIFACTS / "department-ticket-answered.png"))

        # The centre hears of the answer live: Minji's console and the supervisor.
        for page, name in ((console, "agent-console-notice"), (supervisor, "supervisor-notice")):
            answered = page.locator("#ticket-notices .toast[data-kind=department_answered]")
            await expect(answered).to_be_visible()
            await expect(answered).to_contain_text(number)
            await expect(answered.get_by_role("link")).to_have_attribute(
                "href", f"/tickets/{ticket_id}/"
            )
            await page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
        await agent.reload()
        await expect(agent.locator("#answer-title + p")).to_have_text(DEPARTMENT_ANSWER)
        await browser.close()


async def test_a_citizen_answers_the_happy_call_survey_on_a_phone_once(server):
    base, data = server
    link = base + data["survey"]["path"]
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        citizen = await new_page(
            browser,
            bypass_csp=True,
            viewport=PHONE_VIEWPORT,
            device_scale_factor=3,
            is_mobile=True,
            has_touch=True,
        )

        await citizen.goto(link)
        await expect(citizen.locator("main")).to_contain_text(data["survey"]["number"])
        assert await axe_violations(citizen) == []
        await citizen.click("label[for=score-4]")
        await citizen.click("label[for=solved-yes]")
        await citizen.fill("textarea[name=comment]", "친절하게 안내해 주셔서 감사합니다.")
        await citizen.screenshot(path=str(ARTIFACTS / "survey-phone.png"), full_page=True)
        async with citizen.expect_navigation():
            await citizen.get_by_role("button", name=ko("Send my answers")).click()
        await expect(citizen.locator("main .alert-success")).to_contain_text(
            ko("Thank you for your answers.")
        )
        assert await axe_violations(citizen) == []
        await citizen.screenshot(path=str(ARTIFACTS / "survey-thanks-phone.png"), full_page=True)

        # The link is single use: opening it again says so, with no form.
        response = await citizen.goto(link)
        assert response.status == 200
        await expect(citizen.locator("main")).to_contain_text(
            ko("This survey has already been answered. Thank you.")
        )
        await expect(citizen.locator("input[name=score]")).to_have_count(0)
        assert await axe_violations(citizen) == []
        await browser.close()


async def test_a_citizen_tracks_a_ticket_and_sees_the_answer_but_no_internal_note(server):
    base, data = server
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        citizen = await new_page(
            browser, bypass_csp=True, viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True
        )

        await citizen.goto(f"{base}/track/")
        assert await axe_violations(citizen) == []
        await citizen.fill("#id_number", data["tracked"]["number"])
        await citizen.fill("#id_phone", "010-1234-5678")
        async with citizen.expect_navigation():
            await citizen.locator("main form [type=submit]").click()
        result = citizen.locator("main section")
        await expect(result).to_contain_text(data["tracked"]["number"])
        await expect(result.locator("[data-status]")).to_have_attribute("data-status", "resolved")
        await expect(result).to_contain_text(TRACK_ANSWER)
        await expect(citizen.locator("body")).not_to_contain_text(INTERNAL_NOTE)
        assert re.search(r"010-?1234-?5678", await citizen.content()) is None
        assert await axe_violations(citizen) == []
        await citizen.screenshot(path=str(ARTIFACTS / "track-result.png"), full_page=True)
        await browser.close()
