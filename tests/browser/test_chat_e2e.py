"""End to end in Debian's chromium: a citizen's web chat answered from the agent console.

The server is what `make run` starts (daphne, SQLite, in-memory layer, router loop in the
process); Playwright drives two browser contexts, one per person. Screenshots land in
tests/artifacts/, and axe-core checks the citizen chat against WCAG 2.2 AA.
"""

import pytest
from playwright.async_api import async_playwright, expect

from tests.browser.support import (
    ARTIFACTS,
    CHAT_SETUP,
    axe_violations,
    go_available,
    launch,
    live_server,
    log_in,
    needs_chromium,
    new_page,
    start_chat,
)

CHECK = """
from callcenter.models import Contact
contact = Contact.objects.get()
ticket = contact.tickets.get()
print(contact.state, ticket.status, ticket.subject, sep="|")
"""

pytestmark = needs_chromium


@pytest.fixture
def server(tmp_path):
    with live_server(tmp_path, CHAT_SETUP) as running:
        yield running


async def test_a_citizen_chats_with_an_agent_who_files_the_ticket(server):
    base = server.base
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        citizen = await new_page(browser, bypass_csp=True)
        agent = await new_page(browser, bypass_csp=True)

        # The citizen opens the chat, gives consent and waits in the queue.
        await citizen.goto(f"{base}/chat/")
        assert await axe_violations(citizen) == []
        await start_chat(citizen, "홍길동")

        # The agent logs in, goes available and accepts the offer.
        await log_in(agent, base, "minji")
        await agent.wait_for_url(f"{base}/agent/")
        await go_available(agent)
        accept = agent.locator(".js-accept").first
        await expect(accept).to_be_visible(timeout=20_000)  # the router ticks once a second
        await accept.click()

        # Messages both ways, in real time.
        await expect(citizen.locator("#chat-log")).to_contain_text("김민지")
        await citizen.fill("#chat-input", "등본 떼려면 어디로 가야 하나요?")
        await citizen.press("#chat-input", "Enter")
        conversation = agent.locator(".js-conversation").first
        await expect(conversation).to_contain_text("등본 떼려면 어디로 가야 하나요?")
        reply = agent.locator(".js-reply").first
        await reply.fill("정부24에서 무료로 발급받으실 수 있습니다.")
        await reply.press("Enter")
        await expect(citizen.locator("#chat-log")).to_contain_text("정부24에서 무료로 발급")
        assert await axe_violations(citizen) == []
        await citizen.screenshot(path=str(ARTIFACTS / "citizen-chat.png"), full_page=True)

        # The agent fills the ticket, ends the conversation and finishes wrap-up.
        form = agent.locator("form[id^=ticket-form-]").first
        await expect(form).to_be_visible()
        category = await form.locator(
            "[name=category] option", has_text="일반행정/민원서류"
        ).get_attribute("value")
        await form.locator("[name=category]").select_option(category)
        await form.locator("[name=subject]").fill("주민등록등본 발급 문의")
        await form.locator("[name=answer]").fill("정부24 무료 발급 안내")
        await form.locator("[name=outcome]").select_option("resolve")
        await agent.screenshot(path=str(ARTIFACTS / "agent-console.png"), full_page=True)
        agent.once("dialog", lambda dialog: dialog.accept())
        await agent.locator(".js-end").first.click()
        await expect(citizen.locator("#chat-ended")).to_be_visible()
        await form.locator("[name=wrapup]").click()
        await expect(agent.locator(".js-conversation")).to_have_count(0)
        await browser.close()

    assert await server.shell(CHECK) == "done|resolved|주민등록등본 발급 문의"
