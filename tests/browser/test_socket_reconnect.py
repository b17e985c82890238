"""In chromium: the shared socket client (static/js/socket.js) as a citizen notices it. The
connection drops from the server's side; the chat comes back by itself, shows what the agent
wrote meanwhile once, sends what the citizen wrote once, and never resends a refused message.

The citizen's page goes through a relay that the test cuts, as a server restart or a lost
network would; the agent's console talks to the server directly."""

import asyncio
import json
import re
from urllib.parse import urlsplit

from playwright.async_api import Page, async_playwright, expect

from tests.browser.support import (
    go_available,
    launch,
    log_in,
    needs_chromium,
    new_page,
    start_chat,
)
from tests.browser.test_chat_e2e import server  # noqa: F401

WAIT = 20_000  # ms: backoff after a few refused tries, on a machine that may be busy
STORED_BY_SERVER = re.compile("sent|delivered")  # delivered: the agent has it on screen
STORED = """
from callcenter.models import Message
print(json.dumps(list(Message.objects.filter(sender="citizen").values_list("text", flat=True))))
"""

pytestmark = needs_chromium


class Relay:
    """A TCP relay to daphne that the test can cut, refuse or make deaf to the browser."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.refusing = False  # new connections are closed at once
        self.deaf = False  # what the browser sends is dropped (its messages never arrive)
        self.links: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    def cut(self) -> None:
        """Drop every open connection, as a server restart would."""
        for writer in self.links:
            writer.transport.abort()
        self.links.clear()

    async def stop(self) -> None:
        self.cut()
        self.server.close()

    async def _link(self, reader, writer) -> None:
        if self.refusing:
            writer.transport.abort()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.links |= {writer, up_writer}
        await asyncio.gather(
            self._pipe(reader, up_writer, upstream=True),
            self._pipe(up_reader, writer, upstream=False),
            return_exceptions=True,
        )

    async def _pipe(self, reader, writer, *, upstream: bool) -> None:
        try:
            while data := await reader.read(65536):
                if upstream and self.deaf:
                    continue
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()


def record_sent(page: Page) -> list[dict]:
    frames: list[dict] = []
    page.on(
        "websocket",
        lambda socket: socket.on("framesent", lambda payload: frames.append(json.loads(payload))),
    )
    return frames


async def agent_says(agent: Page, text: str) -> None:
    reply = agent.locator(".js-reply").first
    await reply.fill(text)
    await reply.press("Enter")
    await expect(agent.locator(".js-conversation li.is-pending")).to_have_count(0)


async def test_the_chat_reconnects_and_resumes_without_losing_or_repeating_messages(server):  # noqa: F811
    relay = Relay(urlsplit(server.base).port)
    relayed = await relay.start()
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        citizen = await new_page(browser, locale="en-US")
        agent = await new_page(browser, locale="en-US")
        sent = record_sent(citizen)
        await citizen.goto(f"{relayed}/chat/?lang=en")
        await start_chat(citizen, "Hong")
        await log_in(agent, server.base, "minji")
        await go_available(agent)
        await agent.locator(".js-accept").first.click(timeout=WAIT)
        await agent_says(agent, "Hello, how can I help?")
        log = citizen.locator("#chat-log")
        await expect(log).to_contain_text("Hello, how can I help?")

        # The citizen writes while the line is deaf, then the connection drops and stays down
        # while the agent writes.
        relay.deaf = True
        await citizen.fill("#chat-input", "lost on the way")
        await citizen.press("#chat-input", "Enter")
        lost = log.locator(".msg-mine", has_text="lost on the way")
        await expect(lost.locator(".msg-state")).to_contain_text("Sending")
        relay.refusing = True
        relay.cut()
        await expect(citizen.locator("#chat-conn")).to_be_visible()
        await agent_says(agent, "Are you still there?")

        # Back: the missed reply shows once, the unanswered message goes again, once.
        relay.deaf = relay.refusing = False
        await expect(citizen.locator("#chat-conn")).to_be_hidden(timeout=WAIT)
        await expect(lost.locator(".msg-state")).to_have_attribute(
            "data-state", STORED_BY_SERVER, timeout=WAIT
        )
        await expect(log.locator(".msg-theirs", has_text="Are you still there?")).to_have_count(1)
        await expect(log.locator(".msg-theirs", has_text="Hello, how can I help?")).to_have_count(1)
        await expect(agent.locator(".js-conversation")).to_contain_text("lost on the way")

        # A message the server refuses fails for good: the next reconnect does not resend it.
        await citizen.evaluate("document.getElementById('chat-input').value = 'a\\u0000b'")
        await citizen.press("#chat-input", "Enter")
        await expect(log.locator(".msg-mine").last.locator(".msg-state")).to_contain_text(
            "Not sent"
        )
        relay.cut()
        await expect(citizen.locator("#chat-conn")).to_be_visible()
        await expect(citizen.locator("#chat-conn")).to_be_hidden(timeout=WAIT)
        await citizen.fill("#chat-input", "after the refusal")
        await citizen.press("#chat-input", "Enter")
        latest = log.locator(".msg-mine", has_text="after the refusal")
        await expect(latest.locator(".msg-state")).to_have_attribute(
            "data-state", STORED_BY_SERVER, timeout=WAIT
        )
        await expect(log.locator(".msg-mine", has_text="lost on the way")).to_have_count(1)
        await browser.close()
    await relay.stop()

    sends = [f["text"] for f in sent if f["type"] == "message.send"]
    assert sends == ["lost on the way", "lost on the way", "a\x00b", "after the refusal"]
    resumes = [f for f in sent if f["type"] == "resume"]
    assert len(resumes) == 3  # the first connection and two reconnects
    assert json.loads(await server.shell("import json\n" + STORED)) == [
        "lost on the way",
        "after the refusal",
    ]
