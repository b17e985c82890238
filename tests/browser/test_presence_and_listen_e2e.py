"""In Debian's chromium: the console's presence follows the tab, and a supervisor listens,
whispers and joins from the conversation page.

The server is what `make run` starts (daphne, SQLite, in-memory layer, router loop in the
process), with a 2-second presence grace so a closed tab signs the agent out quickly.
"""

import pytest
from playwright.async_api import async_playwright, expect

from tests.browser.support import (
    SUPERVISED_CHAT_SETUP,
    go_available,
    launch,
    live_server,
    log_in,
    needs_chromium,
    new_page,
    start_chat,
)

SETUP = SUPERVISED_CHAT_SETUP

pytestmark = needs_chromium


@pytest.fixture
def server(tmp_path):
    # Housekeeping (closed consoles signed out) every second, so the 5 s wait below is
    # past the grace and a pass whatever the phase of the 5 s default.
    with live_server(
        tmp_path, SETUP, PRESENCE_GRACE_SECONDS="2", ROUTER_HOUSEKEEPING_SECONDS="1"
    ) as running:
        yield running.base


async def test_a_closed_console_tab_signs_the_agent_out_and_the_console_says_why(server):
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        agent = await new_page(browser)
        context = agent.context
        await log_in(agent, server, "minji")
        await go_available(agent)
        await expect(agent.locator("#presence-badge")).to_have_text("상담 가능")

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
        browser = await launch(playwright)
        citizen, agent, supervisor = [await new_page(browser) for _ in range(3)]

        await citizen.goto(f"{server}/chat/")
        await start_chat(citizen, "홍길동")
        await log_in(agent, server, "minji")
        await go_available(agent)
        await expect(agent.locator("#presence-badge")).to_have_text("상담 가능")
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
