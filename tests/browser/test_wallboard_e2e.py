"""In Debian's chromium: the live wallboard follows the centre over its socket, a supervisor
changes an agent's state and takes a conversation over from it (the agent's console says who
did), and TV mode shows one panel at a time; axe finds nothing.

The server is what `make run` starts (daphne, SQLite, in-memory layer, router loop in the
process)."""

import pytest
from playwright.async_api import async_playwright, expect

from tests.browser.support import (
    SUPERVISED_CHAT_SETUP,
    agent_takes_chat,
    axe_violations,
    go_available,
    launch,
    live_server,
    log_in,
    needs_chromium,
    new_page,
    start_chat,
)

SETUP = SUPERVISED_CHAT_SETUP
# Sora answers citizens too: she can take a conversation over.
SORA_ANSWERS_SETUP = (
    SETUP
    + """
sora.groups.add(Group.objects.get(name="agent"))
Agent.objects.create(user=sora, display_name="박소라").skills.set([korean])
"""
)

pytestmark = needs_chromium


@pytest.fixture
def server(tmp_path):
    with live_server(tmp_path, SETUP) as running:
        yield running.base


@pytest.fixture
def server_sora_answers(tmp_path):
    with live_server(tmp_path, SORA_ANSWERS_SETUP) as running:
        yield running.base


async def accept_dialog(dialog):
    await dialog.accept()


def supervisor_notice(console):
    return console.locator("#console-alerts [role=status]")


def agent_row(page, name):
    return page.locator("#wb-agents tbody tr", has_text=name)


async def test_the_wallboard_follows_the_centre_and_changes_an_agents_state(server):
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        wall = await new_page(browser)
        errors: list[str] = []
        wall.on("pageerror", lambda error: errors.append(str(error)))
        await log_in(wall, server, "sora")
        await wall.goto(f"{server}/supervisor/wallboard/")
        await expect(wall.locator("#wb-status")).to_have_class("badge text-bg-success")
        assert await axe_violations(await _axe_page(browser, server, "")) == []

        agent = await new_page(browser)
        await log_in(agent, server, "minji")
        await go_available(agent)
        await expect(agent_row(wall, "김민지")).to_contain_text("상담 가능")

        citizen = await new_page(browser)
        await citizen.goto(f"{server}/chat/")
        await start_chat(citizen, "홍길동")
        # Minji is offered the chat; until she answers it waits in the chat queue.
        await expect(wall.locator("#wb-waiting tbody tr", has_text="홍*동")).to_be_visible()

        await agent_row(wall, "김민지").locator(".js-change-state").click()
        await wall.select_option("#id_presence", "break")
        await wall.fill("#id_reason", "면담")
        await wall.locator("#wb-presence-form [type=submit]").click()
        await expect(wall.locator("#wb-action-result")).to_contain_text("김민지")
        await expect(agent_row(wall, "김민지")).to_contain_text("휴식")
        await expect(agent.locator("#presence-badge")).to_have_text("휴식")
        await expect(supervisor_notice(agent)).to_have_text(
            "감독자 박소라님이 상태를 ‘휴식’으로 바꿨습니다."
        )
        assert errors == []
        await browser.close()


async def test_a_supervisor_takes_a_chat_over_and_the_agents_console_says_who(
    server_sora_answers,
):
    server = server_sora_answers
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        agent, citizen = await new_page(browser), await new_page(browser)
        errors: list[str] = []
        agent.on("pageerror", lambda error: errors.append(str(error)))
        await agent_takes_chat(agent, citizen, server)
        await expect(agent.locator("#contact-tabs [role=tab]", has_text="홍길동")).to_be_visible()

        wall = await new_page(browser)
        await log_in(wall, server, "sora")
        await wall.goto(f"{server}/supervisor/wallboard/")
        wall.on("dialog", accept_dialog)  # "Take over this conversation?"
        await agent_row(wall, "김민지").locator(".js-take-over").click()

        await wall.wait_for_url(f"{server}/agent/")
        await expect(supervisor_notice(agent)).to_have_text(
            "박소라님이 홍길동님과의 상담을 넘겨받았습니다."
        )
        await expect(agent.locator("#contact-tabs [role=tab]", has_text="홍길동")).to_have_count(0)
        assert errors == []
        await browser.close()


async def _axe_page(browser, server, query):
    page = await new_page(browser, bypass_csp=True)
    await log_in(page, server, "sora")
    await page.goto(f"{server}/supervisor/wallboard/{query}")
    await expect(page.locator("#wb-status")).to_have_class("badge text-bg-success")
    return page


async def test_tv_mode_shows_one_panel_at_a_time_and_can_pause(server):
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        page = await _axe_page(browser, server, "?tv=1")

        await expect(page.locator("header")).to_be_hidden()
        panels = page.locator(".wallboard-panel:visible")
        await expect(panels).to_have_count(1)
        await page.click("#wb-pause")
        await expect(page.locator("#wb-pause")).to_have_attribute("aria-pressed", "true")
        assert await axe_violations(page) == []
        await browser.close()
