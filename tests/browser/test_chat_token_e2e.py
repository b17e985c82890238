"""In Debian's chromium: after a chat ends, the page keeps its token only for the after-end
window (CHAT_AFTER_END_SECONDS), then forgets it and offers a new chat."""

import os

import pytest
from playwright.async_api import async_playwright, expect

from tests.browser.support import (
    CHAT_SETUP,
    launch,
    live_server,
    needs_chromium,
    new_page,
    start_chat,
)

pytestmark = needs_chromium
STORED = "() => window.localStorage.getItem('open120.chat')"


@pytest.fixture
def server(tmp_path):
    with live_server(
        tmp_path, CHAT_SETUP, OPEN120_ENV_FILE=os.devnull, CHAT_AFTER_END_SECONDS="4"
    ) as running:
        yield running.base


async def test_an_ended_chat_is_forgotten_when_its_after_end_window_closes(server):
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        citizen = await new_page(browser)
        await citizen.goto(f"{server}/chat/")
        await start_chat(citizen, "홍길동")
        await citizen.fill("#chat-input", "제 사정은 이렇습니다")
        await citizen.press("#chat-input", "Enter")
        await expect(citizen.locator("#chat-log")).to_contain_text("제 사정은 이렇습니다")
        await citizen.click("#chat-end-button")
        await citizen.click("#chat-end-confirm")
        await expect(citizen.locator("#chat-ended")).to_be_visible()

        # A reload inside the window shows the ended screen, not the conversation.
        await citizen.reload()
        await expect(citizen.locator("#chat-ended")).to_be_visible()
        assert "제 사정은 이렇습니다" not in await citizen.locator("#chat-log").inner_text()
        assert await citizen.evaluate(STORED) is not None

        # When the window closes the page forgets the token and offers a new chat.
        await expect(citizen.locator("#chat-start")).to_be_visible(timeout=10_000)
        await expect(citizen.locator("#chat-start-notice")).to_be_visible()
        assert await citizen.evaluate(STORED) is None
        await browser.close()
