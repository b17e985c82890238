"""In chromium: a message the server refuses is shown as not sent and never sent again."""

import json

from playwright.async_api import async_playwright, expect

from tests.browser.support import launch, needs_chromium, new_page, start_chat
from tests.browser.test_chat_e2e import server  # noqa: F401

COUNT = """
from callcenter.models import Message
print(Message.objects.filter(sender="citizen").count())
"""

pytestmark = needs_chromium


async def test_a_refused_message_is_marked_not_sent_and_not_resent_after_a_reload(server):  # noqa: F811
    base = server.base
    violations = []
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        page = await new_page(browser, locale="en-US")
        page.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text and violations.append(message.text)
            ),
        )
        sent_frames = []
        page.on(
            "websocket",
            lambda socket: socket.on(
                "framesent", lambda payload: sent_frames.append(json.loads(payload))
            ),
        )
        await page.goto(f"{base}/chat/?lang=en")
        await start_chat(page, "Hong")

        # A control character the keyboard cannot type, pasted in: the server refuses it.
        await page.evaluate("document.getElementById('chat-input').value = 'a\\u0000b'")
        await page.press("#chat-input", "Enter")
        bubble = page.locator("#chat-log .msg-mine").last
        await expect(bubble.locator(".msg-state")).to_contain_text("Not sent")
        await expect(page.locator("#chat-error")).to_be_visible()
        outbox = await page.evaluate("JSON.parse(localStorage.getItem('open120.chat')).outbox")
        assert outbox is None

        # A reload reconnects and resumes; the refused message does not go out again.
        sent_frames.clear()
        await page.reload()
        await page.wait_for_function("document.getElementById('chat-conn').hidden")
        await page.fill("#chat-input", "fine")
        await page.press("#chat-input", "Enter")
        latest = page.locator("#chat-log .msg-mine").last
        await expect(latest.locator(".msg-state")).to_contain_text("Sent")
        await browser.close()

    assert [f["text"] for f in sent_frames if f["type"] == "message.send"] == ["fine"]
    assert violations == []
    assert await server.shell(COUNT) == "1"
