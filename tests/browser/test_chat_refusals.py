"""In chromium: a message the server refuses is shown as not sent and never sent again."""

import asyncio
import json
import subprocess
import sys

from playwright.async_api import async_playwright, expect

from tests.browser.test_chat_e2e import CHROMIUM, CHROMIUM_ARGS, pytestmark, server  # noqa: F401
from tests.live.servers import BASE_DIR

COUNT = """
from callcenter.models import Message
print(Message.objects.filter(sender="citizen").count())
"""


async def test_a_refused_message_is_marked_not_sent_and_not_resent_after_a_reload(server):  # noqa: F811
    base, env = server
    violations = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await (await browser.new_context(locale="en-US")).new_page()
        page.set_default_timeout(15_000)
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
        await page.fill("#id_name", "Hong")
        await page.check("#id_consent")
        await page.click("#chat-start-submit")
        await expect(page.locator("#chat-waiting")).to_be_visible()

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
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "manage.py", "shell", "-c", COUNT],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip().splitlines()[-1] == "1"
