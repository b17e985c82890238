"""In chromium: a message the server refuses is shown as not sent and never sent again."""

import json

from playwright.async_api import async_playwright, expect

from tests.browser.support import (
    go_available,
    launch,
    log_in,
    needs_chromium,
    new_page,
    start_chat,
)
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
        await expect(page.locator("#chat-conn")).to_be_hidden()  # reconnected
        await page.fill("#chat-input", "fine")
        await page.press("#chat-input", "Enter")
        latest = page.locator("#chat-log .msg-mine").last
        await expect(latest.locator(".msg-state")).to_contain_text("Sent")
        await browser.close()

    assert [f["text"] for f in sent_frames if f["type"] == "message.send"] == ["fine"]
    assert violations == []
    assert await server.shell(COUNT) == "1"


async def test_an_agent_message_the_server_refuses_fails_for_good_and_is_not_resent(server):  # noqa: F811
    base = server.base
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        citizen = await new_page(browser)
        agent = await new_page(browser, locale="en-US")
        # Keep the console's sockets reachable, to drop one as a lost network would.
        await agent.add_init_script(
            "window.__sockets = []; const Native = window.WebSocket;"
            "window.WebSocket = class extends Native {"
            "  constructor(...args) { super(...args); window.__sockets.push(this); } };"
        )
        sent_frames = []
        agent.on(
            "websocket",
            lambda socket: socket.on(
                "framesent", lambda payload: sent_frames.append(json.loads(payload))
            ),
        )
        await citizen.goto(f"{base}/chat/")
        await start_chat(citizen, "홍길동")
        await log_in(agent, base, "minji")
        await go_available(agent)
        accept = agent.locator(".js-accept").first
        await expect(accept).to_be_visible(timeout=20_000)
        await accept.click()
        reply = agent.locator(".js-reply").first
        await expect(reply).to_be_visible()

        # Pasted text with a control character: refused by the server, named by its client_id.
        await reply.evaluate("(box) => { box.value = 'a\\u0001b'; }")
        await reply.press("Enter")
        mine = agent.locator(".js-conversation li.is-failed")
        await expect(mine).to_have_count(1)

        # A reconnect flushes what is still sending; the refused message is not among it.
        refused = [f for f in sent_frames if f.get("type") == "message.send"]
        await agent.evaluate("window.__sockets.forEach((socket) => socket.close())")
        await expect(agent.locator("#socket-state")).to_have_attribute(
            "data-state", "connected", timeout=20_000
        )
        await reply.fill("정상 메시지")
        await reply.press("Enter")
        await expect(agent.locator(".js-conversation")).to_contain_text("정상 메시지")
        await expect(agent.locator(".js-conversation li.is-pending")).to_have_count(0)
        await browser.close()

    sends = [f["text"] for f in sent_frames if f.get("type") == "message.send"]
    assert len(refused) == 1
    assert sends == [refused[0]["text"], "정상 메시지"]
