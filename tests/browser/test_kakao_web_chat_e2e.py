"""In Debian's chromium: a KakaoTalk citizen whose agent answers too late for Kakao's callback
minute continues the same conversation in the web chat, on a phone-sized screen. Kakao's
part is played by this test: skill requests as Open Builder sends them."""

import asyncio
from pathlib import Path

import pytest
import requests
from playwright.async_api import async_playwright, expect

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
SECRET = "browser-kakao-secret"
SHOTS = Path("/tmp/shots")  # noqa: S108 - where the lead looks at the screenshots
SETUP = (
    PEOPLE
    + """
from callcenter.models import Queue, Skill
korean = Skill.objects.create(code="lang-ko", name="한국어", kind="language")
chat = Queue.objects.create(code="chat", name="채팅", channels=["webchat", "kakao"])
chat.required_skills.set([korean])
agent("minji", "김민지", [korean])
"""
)

pytestmark = needs_chromium


@pytest.fixture
def server(tmp_path):
    with live_server(tmp_path, SETUP, KAKAO_SKILL_SECRET=SECRET) as running:
        yield running


def say(base: str, utterance: str) -> dict:
    """The citizen's utterance in KakaoTalk, as Open Builder posts it to the skill."""
    request = {
        "intent": {"id": "fallback", "name": "폴백 블록"},
        "userRequest": {
            "timezone": "Asia/Seoul",
            "utterance": utterance,
            "lang": "ko",
            "user": {"id": "kakao-user-1", "type": "botUserKey", "properties": {}},
            "params": {},
            "block": {"id": "fallback", "name": "폴백 블록"},
        },
        "bot": {"id": "bot", "name": "120"},
        "action": {"id": "a", "name": "skill", "params": {}, "detailParams": {}, "clientExtra": {}},
    }
    response = requests.post(
        f"{base}/kakao/skill", json=request, headers={"X-Skill-Secret": SECRET}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_kakao_citizen_continues_in_the_web_chat_and_talks_live(server):
    await asyncio.to_thread(SHOTS.mkdir, parents=True, exist_ok=True)
    base = server.base
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        agent = await new_page(browser, viewport={"width": 1440, "height": 1000})
        await log_in(agent, base, "minji")
        await agent.wait_for_url(f"{base}/agent/")
        await go_available(agent)

        await asyncio.to_thread(say, base, "상담사 연결")
        await agent.locator(".js-accept").first.click(timeout=WAIT)
        await expect(agent.locator(".js-conversation").first).to_be_visible(timeout=WAIT)
        forwarded = await asyncio.to_thread(say, base, "불법 주차 신고는 어떻게 하나요?")
        labels = [q["label"] for q in forwarded["template"].get("quickReplies", [])]
        assert "웹 채팅으로 계속" in labels
        card = (await asyncio.to_thread(say, base, "웹 채팅으로 계속"))["template"]["outputs"][-1]
        link = card["basicCard"]["buttons"][0]["webLinkUrl"]
        token = link.split("#continue=", 1)[1]

        citizen = await new_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True)
        await citizen.goto(f"{base}/chat/#continue={token}")
        log = citizen.locator("#chat-log")
        await expect(log).to_contain_text("불법 주차 신고는 어떻게 하나요?", timeout=WAIT)
        assert "#continue" not in citizen.url  # the token leaves the address bar at once

        reply = agent.locator(".js-reply").first
        await reply.fill("안전신문고 앱이나 120으로 신고하실 수 있습니다.")
        await reply.press("Enter")
        await expect(log).to_contain_text("안전신문고 앱이나 120으로", timeout=WAIT)

        await citizen.fill("#chat-input", "감사합니다, 앱으로 할게요.")
        await citizen.press("#chat-input", "Enter")
        conversation = agent.locator(".js-conversation").first
        await expect(conversation).to_contain_text("앱으로 할게요", timeout=WAIT)
        await citizen.screenshot(path=str(SHOTS / "kakao_web_chat_phone.png"))
        await browser.close()
