"""In Debian's chromium: a phone call in the agent console's softphone, watched live by a
supervisor. Twilio's part is played by this test: the webhooks and conference callbacks
Twilio would send, signed with the auth token over the public URL (``X-Twilio-Signature``).
The softphone is the simulated one (no Twilio account, no audio); the panel and its
controls are the same as with Twilio's Voice SDK."""

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
AUTH_TOKEN = "browser-voice-token-" + "b" * 16
PUBLIC = "http://120.browser.example"  # what Twilio calls (and signs); not a real host
SHOTS = Path("/tmp/shots")  # noqa: S108 - where the lead looks at the screenshots
SETUP = (
    PEOPLE
    + """
from callcenter.models import Queue, Skill
korean = Skill.objects.create(code="lang-ko", name="한국어", kind="language")
general = Queue.objects.create(code="general", name="일반 전화", channels=["voice"])
general.required_skills.set([korean])
agent("minji", "김민지", [korean])
staff("sora", "supervisor", "박소라")
"""
)

pytestmark = needs_chromium


@pytest.fixture
def server(tmp_path):
    with live_server(
        tmp_path, SETUP, TWILIO_AUTH_TOKEN=AUTH_TOKEN, PUBLIC_BASE_URL=PUBLIC
    ) as running:
        yield running


class Twilio:
    """Twilio's side of one call: signed form posts to the live server."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.call_sid = "CA" + secrets.token_hex(16)

    def _post(self, path: str, params: dict[str, str]) -> requests.Response:
        signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + path, params)
        response = requests.post(
            self.base + path, data=params, headers={"X-Twilio-Signature": signature}, timeout=10
        )
        assert response.status_code in (200, 204), (path, response.status_code, response.text)
        return response

    async def post(self, path: str, **params: str) -> None:
        call = {
            "CallSid": self.call_sid,
            "AccountSid": "AC" + "a" * 32,
            "From": "+821012345678",
            "To": "+8220120120",
            "CallStatus": "in-progress",
            "Direction": "inbound",
        }
        await asyncio.to_thread(self._post, path, {**call, **params})

    async def joins(self, contact_id: int, *, label: str, call_sid: str) -> None:
        """The conference's participant-join callback for one party."""
        await asyncio.to_thread(
            self._post,
            "/twilio/voice/conference-status",
            {
                "AccountSid": "AC" + "a" * 32,
                "ConferenceSid": "CF" + "c" * 32,
                "FriendlyName": f"contact-{contact_id}",
                "StatusCallbackEvent": "participant-join",
                "CallSid": call_sid,
                "ParticipantLabel": label,
            },
        )


async def test_an_agent_answers_holds_adds_an_interpreter_and_hangs_up_a_call(server):
    await asyncio.to_thread(SHOTS.mkdir, parents=True, exist_ok=True)
    base = server.base
    twilio = Twilio(base)
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        agent = await new_page(browser, viewport={"width": 1440, "height": 1000})
        supervisor = await new_page(browser, viewport={"width": 1280, "height": 900})

        # The Voice SDK is served from npm's copy, not a CDN.
        sdk = await agent.request.get(f"{base}/static/vendor/twilio-voice/twilio.min.js")
        assert sdk.ok

        await log_in(agent, base, "minji")
        await agent.wait_for_url(f"{base}/agent/")
        await go_available(agent)

        # A citizen phones 120 and presses 0 for an agent: the call is offered on the console.
        await twilio.post("/twilio/voice/incoming", CallStatus="ringing")
        await twilio.post("/twilio/voice/menu", Digits="0", CallStatus="ringing")
        offer = agent.locator(".offer").first
        await expect(offer).to_contain_text("전화", timeout=WAIT)
        await expect(offer).to_contain_text("010-****-5678")
        await offer.locator(".js-accept").click()

        # The softphone shows the call connecting until Twilio says both parties joined.
        panel = agent.locator(".softphone").first
        await expect(panel).to_be_visible(timeout=WAIT)
        await expect(panel).to_contain_text("시뮬레이션 전화")
        await expect(panel.locator(".js-sp-state")).to_have_text("연결 중", timeout=WAIT)
        contact_id = int(
            await server.shell(
                "from callcenter.models import Contact; "
                f"print(Contact.objects.get(provider_id={twilio.call_sid!r}).pk)"
            )
        )
        leg_id = int(
            await server.shell(
                "from callcenter.models import CallLeg; "
                f"print(CallLeg.objects.get(contact_id={contact_id}, role='agent').pk)"
            )
        )
        await twilio.post(f"/twilio/voice/conference?contact={contact_id}")
        await twilio.joins(contact_id, label="caller", call_sid=twilio.call_sid)
        await twilio.joins(contact_id, label=f"agent-{leg_id}", call_sid="CA" + "d" * 32)
        await expect(panel.locator(".js-sp-state")).to_have_text("연결됨", timeout=WAIT)
        await expect(panel.locator(".js-sp-parties")).to_contain_text("발신자")
        await expect(panel.locator(".js-sp-parties")).to_contain_text("010-****-5678")
        await expect(panel.locator(".js-sp-consult")).to_be_hidden()  # no colleague on the line
        await agent.screenshot(path=str(SHOTS / "softphone_connected.png"), full_page=True)

        # The supervisor opens the call's page and the dashboard's live list.
        await log_in(supervisor, base, "sora")
        await supervisor.goto(f"{base}/supervisor/contacts/{contact_id}/")
        card = supervisor.locator("#call-live")
        await expect(card.locator("#call-live-state")).to_have_text("연결됨", timeout=WAIT)
        dashboard = await new_page(browser, viewport={"width": 1280, "height": 900})
        await dashboard.context.add_cookies(await supervisor.context.cookies())
        await dashboard.goto(f"{base}/supervisor/")
        row = dashboard.locator(f"[data-call-row='{contact_id}']")
        await expect(row).to_be_visible()
        await expect(row.locator(".bi-telephone-fill")).to_be_attached()
        await expect(row.locator(".js-call-hold")).to_be_hidden()

        # Hold: the panel shows it with a running timer, the supervisor sees it live.
        await panel.locator(".js-sp-hold").click()
        await expect(panel.locator(".js-sp-state")).to_have_text("보류 중", timeout=WAIT)
        await expect(panel.locator(".js-sp-hold")).to_have_attribute("aria-pressed", "true")
        await expect(panel.locator(".js-sp-timer")).to_be_visible()
        await expect(card.locator("#call-live-state")).to_have_text("보류 중", timeout=WAIT)
        await expect(row.locator(".js-call-hold")).to_be_visible(timeout=WAIT)

        # The interpreter line joins: a party on the panel and on the supervisor's card.
        await panel.locator(".js-sp-language").select_option("en")
        await panel.locator(".js-sp-interpreter").click()
        await expect(panel.locator(".js-sp-parties")).to_contain_text("통역사", timeout=WAIT)
        await expect(panel.locator(".js-sp-interpreter-remove")).to_be_visible()
        await expect(card.locator("#call-live-parties")).to_contain_text("통역사", timeout=WAIT)
        await expect(card.locator("#call-live-parties")).to_contain_text("영어")
        await expect(row.locator(".js-call-interpreter")).to_be_visible(timeout=WAIT)
        for page, name in (
            (agent, "softphone_on_hold_interpreter"),
            (supervisor, "supervisor_contact_call"),
            (dashboard, "supervisor_dashboard_call"),
        ):
            await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

        # Resume: back to connected everywhere.
        await panel.locator(".js-sp-hold").click()
        await expect(panel.locator(".js-sp-state")).to_have_text("연결됨", timeout=WAIT)
        await expect(card.locator("#call-live-state")).to_have_text("연결됨", timeout=WAIT)
        await expect(row.locator(".js-call-hold")).to_be_hidden(timeout=WAIT)

        # Mute is the agent's own microphone.
        await panel.locator(".js-sp-mute").click()
        await expect(panel.locator(".js-sp-mute")).to_have_attribute(
            "aria-pressed", "true", timeout=WAIT
        )
        await expect(card.locator("#call-live-parties")).to_contain_text("음소거됨", timeout=WAIT)

        # Hang up: the call ends and the contact goes to wrap-up.
        agent.once("dialog", lambda dialog: dialog.accept())
        await panel.locator(".js-sp-hangup").click()
        await expect(panel.locator(".js-sp-state")).to_have_text("통화 종료됨", timeout=WAIT)
        await expect(agent.locator(".js-wrapup-badge").first).to_be_visible(timeout=WAIT)
        await expect(card.locator("#call-live-state")).to_have_text("통화 종료됨", timeout=WAIT)
        await agent.screenshot(path=str(SHOTS / "softphone_ended.png"), full_page=True)
        await browser.close()
