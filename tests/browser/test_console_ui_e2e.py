"""The small things a citizen and an agent notice, in Debian's chromium: the waiting banner,
the ticket number in the chat, knowledge suggestions for what the citizen asked, an article
filling the answer given, and the ticket panel's save buttons in view."""

import pytest
from playwright.async_api import async_playwright, expect

from tests.browser.support import (
    CHAT_SETUP,
    go_available,
    launch,
    live_server,
    log_in,
    needs_chromium,
    new_page,
    start_chat,
)

WAIT = 15_000  # ms: the router loop ticks every second on a machine that may be busy
ANSWER = "정부24에서 무료로 발급받으실 수 있습니다."
ARTICLE = f"""
from knowledge.services import article_save
article_save(
    title="주민등록등본 발급", question="등본은 어디서 떼나요?", answer="{ANSWER}",
    author=None, status="published",
)
"""

pytestmark = needs_chromium


@pytest.fixture
def server(tmp_path):
    with live_server(tmp_path, CHAT_SETUP + ARTICLE) as running:
        yield running.base


async def test_banner_ticket_number_article_and_save_buttons(server):
    base = server
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        citizen = await new_page(browser)
        agent = await new_page(browser)

        # Nobody is logged in: only the no-agent notice and its call-back choice.
        await citizen.goto(f"{base}/chat/")
        await start_chat(citizen, "홍길동")
        await expect(citizen.locator("#chat-no-agents")).to_be_visible(timeout=WAIT)
        await expect(citizen.locator("#chat-callback-toggle")).to_be_visible(timeout=WAIT)
        await expect(citizen.locator("#chat-waiting-detail")).to_have_text("", timeout=WAIT)

        # An agent logs in: the place in the queue is back, the notice gone.
        await log_in(agent, base, "minji")
        await agent.wait_for_url(f"{base}/agent/")
        await go_available(agent)
        await expect(citizen.locator("#chat-no-agents")).to_be_hidden(timeout=WAIT)
        await expect(citizen.locator("#chat-waiting-detail")).to_contain_text(
            "다음 순서", timeout=WAIT
        )
        accept = agent.locator(".js-accept").first
        await expect(accept).to_be_visible(timeout=WAIT)
        await accept.click()

        # The save buttons are in view without scrolling the panel.
        form = agent.locator("form[id^=ticket-form-]").first
        await expect(form).to_be_visible(timeout=WAIT)
        await expect(form.locator("[name=save]")).to_be_in_viewport(timeout=WAIT)
        await expect(form.locator("[name=wrapup]")).to_be_in_viewport(timeout=WAIT)

        # What the citizen asks brings suggestions to the conversation on screen (the console
        # tells its socket which one that is; nothing is searched on the message's path).
        await citizen.fill("#chat-input", "등본은 어디서 떼나요?")
        await citizen.press("#chat-input", "Enter")
        await expect(agent.locator(".js-kb-results").first).to_contain_text(
            "주민등록등본 발급", timeout=WAIT
        )

        # Inserting an article fills the reply and the answer given.
        kb = agent.locator(".js-kb-q").first
        await kb.fill("등본")
        await kb.press("Enter")
        insert = agent.locator(".js-kb-results button").first
        await expect(insert).to_be_enabled(timeout=WAIT)
        await insert.click()
        await expect(agent.locator(".js-reply").first).to_have_value(ANSWER, timeout=WAIT)
        await expect(form.locator("[name=answer]")).to_have_value(ANSWER, timeout=WAIT)

        # Saving the ticket tells the citizen its number, in the chat and on the end screen.
        category = await form.locator(
            "[name=category] option", has_text="일반행정/민원서류"
        ).get_attribute("value")
        await form.locator("[name=category]").select_option(category)
        await form.locator("[name=subject]").fill("주민등록등본 발급 문의")
        await form.locator("[name=save]").click()
        number = (await agent.locator(".ticket-number").first.inner_text()).strip()
        assert number.startswith("120-")
        await expect(citizen.locator("#chat-log")).to_contain_text(
            f"접수번호는 {number}입니다", timeout=WAIT
        )
        agent.once("dialog", lambda dialog: dialog.accept())
        await agent.locator(".js-end").first.click()
        await expect(citizen.locator("#chat-ended")).to_be_visible(timeout=WAIT)
        await expect(citizen.locator("#chat-ended-ticket")).to_contain_text(number, timeout=WAIT)
        await browser.close()
