"""In Debian's chromium: a citizen's text message answered from the agent console, each reply
showing how far its delivery got. Twilio's part is played by this test: the messaging
webhooks Twilio would send, signed with the auth token over the public URL."""

import asyncio
import secrets
from pathlib import Path

import pytest
import requests
from playwright.async_api import async_playwright, expect
from twilio.request_validator import RequestValidator

from tests.browser.support import (
    PEOPLE,
    go_available,
    launch,
    live_server,
    log_in,
    needs_chromium,
    new_page,
)

WAIT = 15_000  # ms: the router loop ticks every second on a machine that may be busy
AUTH_TOKEN = "browser-sms-token-" + "s" * 16
PUBLIC = "http://120.browser.example"  # what Twilio calls (and signs); not a real host
SHOTS = Path("/tmp/shots")  # noqa: S108 - where the lead looks at the screenshots
SETUP = (
    PEOPLE
    + """
from callcenter.models import Queue, Skill
korean = Skill.objects.create(code="lang-ko", name="한국어", kind="language")
chat = Queue.objects.create(code="chat", name="채팅", channels=["webchat", "sms", "whatsapp"])
chat.required_skills.set([korean])
agent("minji", "김민지", [korean])
"""
)

pytestmark = needs_chromium


@pytest.fixture
def server(tmp_path):
    with live_server(
        tmp_path, SETUP, TWILIO_AUTH_TOKEN=AUTH_TOKEN, PUBLIC_BASE_URL=PUBLIC
    ) as running:
        yield running


def twilio_post(base: str, path: str, params: dict[str, str]) -> requests.Response:
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + path, params)
    response = requests.post(
        base + path, data=params, headers={"X-Twilio-Signature": signature}, timeout=10
    )
    assert response.status_code in (200, 204), (path, response.status_code, response.text)
    return response


async def text_in(base: str, body: str) -> None:
    params = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": "AC" + "a" * 32,
        "From": "+821012345678",
        "To": "+8220120120",
        "Body": body,
        "NumMedia": "0",
    }
    await asyncio.to_thread(twilio_post, base, "/twilio/messaging/incoming", params)


async def status(base: str, sid: str, message_status: str, **extra: str) -> None:
    params = {"MessageSid": sid, "MessageStatus": message_status, **extra}
    await asyncio.to_thread(twilio_post, base, "/twilio/messaging/status", params)


async def test_an_agent_answers_a_text_and_sees_each_replys_delivery(server):
    await asyncio.to_thread(SHOTS.mkdir, parents=True, exist_ok=True)
    base = server.base
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        agent = await new_page(browser, viewport={"width": 1440, "height": 1000})
        await log_in(agent, base, "minji")
        await agent.wait_for_url(f"{base}/agent/")
        await go_available(agent)

        # A citizen texts the city's number; the bot had answered before (a Kakao-style
        # transcript): the conversation is offered on the console.
        await text_in(base, "가로등이 꺼져 있어요")
        await server.shell(
            "from callcenter.models import Contact, Message\n"
            "Message.objects.create(contact=Contact.objects.get(), sender='bot',"
            " text='가로등 고장은 120으로 신고하실 수 있습니다.')"
        )
        offer = agent.locator(".offer").first
        await expect(offer).to_contain_text("010-****-5678", timeout=WAIT)
        await offer.locator(".js-accept").click()

        pane = agent.locator(".tab-pane.active")
        log = pane.locator(".js-conversation")
        await expect(log.locator(".msg-citizen")).to_contain_text("가로등이 꺼져 있어요")
        await expect(log.locator(".msg-bot .msg-meta")).to_contain_text("챗봇")
        await expect(pane.locator(".js-channel-note")).to_be_visible()
        await expect(pane.locator(".js-attach")).to_be_disabled()

        # A reply: stored and queued for the worker (none runs here), so it waits.
        await pane.locator(".js-reply").fill("수리 요청을 접수했습니다.")
        await pane.locator(".js-reply").press("Enter")
        first = log.locator(".msg-agent").first
        await expect(first).to_have_attribute("data-delivery", "pending", timeout=WAIT)

        # Twilio took it and reports it delivered: the console follows, live.
        sid = "SM" + "d" * 32
        await server.shell(
            "from channels_app.models import OutboundMessage\n"
            f"OutboundMessage.objects.filter(message__isnull=False).update(provider_id={sid!r})"
        )
        await status(base, sid, "delivered")
        await expect(first).to_have_attribute("data-delivery", "delivered", timeout=WAIT)
        await expect(first.locator(".js-state")).to_contain_text("전달됨")
        # A late "sent" does not move it back.
        await status(base, sid, "sent")

        # A second reply that the carrier could not deliver: the reason is shown.
        await pane.locator(".js-reply").fill("추가 안내드립니다.")
        await pane.locator(".js-reply").press("Enter")
        second = log.locator(".msg-agent").nth(1)
        await expect(second).to_have_attribute("data-delivery", "pending", timeout=WAIT)
        other = "SM" + "e" * 32
        await server.shell(
            "from channels_app.models import OutboundMessage\n"
            "OutboundMessage.objects.filter(provider_id='')"
            f".exclude(message=None).update(provider_id={other!r})"
        )
        await status(base, other, "undelivered", ErrorCode="30005")
        await expect(second).to_have_attribute("data-delivery", "undelivered", timeout=WAIT)
        await expect(second.locator(".js-state")).to_contain_text("Twilio error 30005")
        await expect(first).to_have_attribute("data-delivery", "delivered")
        await agent.screenshot(path=str(SHOTS / "sms_console.png"))
        await browser.close()
