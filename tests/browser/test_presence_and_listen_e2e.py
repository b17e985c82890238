"""In Debian's chromium: the console's presence follows the tab, and a supervisor listens,
whispers and joins from the conversation page.

The server is what `make run` starts (daphne, SQLite, in-memory layer, router loop in the
process), with a 2-second presence grace so a closed tab signs the agent out quickly.
"""

import os
import subprocess
import sys

import pytest
from playwright.async_api import Page, async_playwright, expect

from tests.browser.test_chat_e2e import CHROMIUM, CHROMIUM_ARGS
from tests.live.servers import BASE_DIR, daphne

PASSWORD = "correct-horse-battery"

SETUP = """
from django.contrib.auth.models import Group
from callcenter.models import Agent, Queue, Skill, User
korean = Skill.objects.create(code="lang-ko", name="한국어", kind="language")
queue = Queue.objects.create(code="chat", name="채팅", channels=["webchat"])
queue.required_skills.set([korean])
user = User.objects.create_user("minji", password="correct-horse-battery", first_name="김민지")
user.groups.add(Group.objects.get(name="agent"))
Agent.objects.create(user=user, display_name="김민지").skills.set([korean])
sora = User.objects.create_user("sora", password="correct-horse-battery", first_name="박소라")
sora.groups.add(Group.objects.get(name="supervisor"))
"""

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and os.environ.get("REQUIRE_SERVICES") != "1",
    reason="needs Debian's chromium (apt-get install chromium)",
)


@pytest.fixture
def server(tmp_path):
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update(
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'browser.sqlite3'}",
        DJANGO_SETTINGS_MODULE="callcenter.settings",
        MEDIA_ROOT=str(tmp_path / "media"),
        PRESENCE_GRACE_SECONDS="2",
    )
    for command in (["migrate", "-v0"], ["shell", "-c", SETUP]):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=BASE_DIR, env=env, check=True, timeout=120
        )
    with daphne(env, inherit=False) as base:
        yield base


async def log_in(page: Page, base: str, username: str) -> None:
    await page.goto(f"{base}/accounts/login/")
    await page.fill("#id_username", username)
    await page.fill("#id_password", PASSWORD)
    await page.click("form button[type=submit], form input[type=submit]")
    await page.wait_for_load_state()


async def go_available(agent: Page) -> None:
    # After the socket's hello, which shows the stored presence in the list.
    await expect(agent.locator("#socket-state")).to_have_attribute("data-state", "connected")
    await agent.select_option("#id_presence", "available")
    await agent.locator("#presence-control form [type=submit]").click()
    await expect(agent.locator("#presence-badge")).to_have_text("상담 가능")


async def test_a_closed_console_tab_signs_the_agent_out_and_the_console_says_why(server):
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(locale="ko-KR")
        agent = await context.new_page()
        agent.set_default_timeout(15_000)
        await log_in(agent, server, "minji")
        await go_available(agent)

        await agent.close()  # the tab is closed; nothing says goodbye but the socket
        lobby = await context.new_page()
        await lobby.wait_for_timeout(5_000)  # past the 2-second grace and a few router ticks
        await lobby.goto(f"{server}/agent/")

        await expect(lobby.locator("#presence-badge")).to_have_text("오프라인")
        await expect(lobby.locator("#presence-since")).to_contain_text("콘솔 연결 끊김")
        assert await lobby.locator("#id_presence").input_value() == "offline"
        await browser.close()


async def test_a_supervisor_listens_whispers_and_joins_once(server):
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pages = []
        for _ in range(3):
            page = await (await browser.new_context(locale="ko-KR")).new_page()
            page.set_default_timeout(15_000)
            pages.append(page)
        citizen, agent, supervisor = pages

        await citizen.goto(f"{server}/chat/")
        await citizen.fill("#id_name", "홍길동")
        await citizen.check("#id_consent")
        await citizen.click("#chat-start-submit")
        await expect(citizen.locator("#chat-waiting")).to_be_visible()
        await log_in(agent, server, "minji")
        await go_available(agent)
        await agent.locator(".js-accept").first.click()
        await expect(citizen.locator("#chat-log")).to_contain_text("김민지")
        ticket_form = agent.locator("form[id^=ticket-form-]").first
        await expect(ticket_form).to_be_visible()
        contact_id = (await ticket_form.get_attribute("id")).removeprefix("ticket-form-")

        await log_in(supervisor, server, "sora")
        await supervisor.goto(f"{server}/supervisor/contacts/{contact_id}/")
        await expect(supervisor.locator("#live-state")).to_contain_text("청취 중")
        await citizen.fill("#chat-input", "여권 재발급은 어디서 하나요?")
        await citizen.press("#chat-input", "Enter")
        await expect(supervisor.locator("#live-log")).to_contain_text("여권 재발급")

        await supervisor.fill("#live-text", "여권과로 안내해 주세요")
        await supervisor.click("#live-form [type=submit]")
        conversation = agent.locator(".js-conversation").first
        await expect(conversation.locator(".msg-whisper")).to_contain_text("여권과로 안내해 주세요")
        await expect(conversation.locator(".msg-whisper")).to_contain_text("관리자 귓속말")

        await supervisor.click("#live-join")
        await expect(citizen.locator("#chat-log")).to_contain_text("박소라님이 상담에 참여했습니다")
        await supervisor.reload()  # a reconnecting page never joins twice
        await expect(supervisor.locator("#live-state")).to_contain_text("상담에 참여했습니다")
        await expect(supervisor.locator("#live-join")).to_be_hidden()
        await citizen.wait_for_timeout(1_000)
        assert (await citizen.locator("#chat-log").inner_text()).count("상담에 참여했습니다") == 1
        assert "여권과로 안내해 주세요" not in await citizen.locator("#chat-log").inner_text()
        await browser.close()
