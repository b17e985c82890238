"""The citizen's sign-language video page in Debian's chromium: axe-core (WCAG 2.2 AA) in
Korean and English, at phone (390×844) and desktop (1280×800) sizes, in the states a
citizen sees before an agent answers — the intro with the camera preview, the "nobody can
answer now" screen with the call-back form, waiting in the queue, and the end after
cancelling. Chromium's fake camera and microphone stand in for real ones.

Violations go to tests/artifacts/axe-video-<state>.json, screenshots to
tests/artifacts/video-<state>-<language>-<size>.png.
"""

import json

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.browser import support
from tests.browser.support import (
    ARTIFACTS,
    CHROMIUM,
    PEOPLE,
    axe_results,
    go_available,
    log_in,
    needs_chromium,
)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
COMBINATIONS = [(lang, size) for lang in ("ko", "en") for size in ("phone", "desktop")]
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
FAKE_MEDIA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]

# 최은영 signs; the sign-language video queue around the clock (no calendar).
SETUP = (
    PEOPLE
    + """
from callcenter.models import Queue, Skill
sign = Skill.objects.create(code="sign-language", name="수어", kind="sign_language")
queue = Queue.objects.create(code="sign-video", name="수어 영상", channels=["video"], priority=2)
queue.required_skills.set([sign])
agent("eunyoung", "최은영", [sign])
"""
)
SIGNING = """
from django.utils import timezone
from callcenter.models import Agent
eunyoung = Agent.objects.filter(user__username="eunyoung")
eunyoung.update(presence={presence!r}, console_seen_at=timezone.now())
print(eunyoung.get().presence)
"""

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # The signing agent stays "logged in" without a console for the whole module; media
    # stays on loopback.
    with support.live_server(
        tmp_path_factory.mktemp("video"),
        SETUP,
        PRESENCE_GRACE_SECONDS="86400",
        VIDEO_LOOPBACK_ONLY="1",
    ) as running:
        yield running


async def signing_agent(server, presence: str) -> None:
    assert await server.shell(SIGNING.format(presence=presence)) == presence


async def launch(playwright) -> Browser:
    return await playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*support.CHROMIUM_ARGS, *FAKE_MEDIA]
    )


async def open_page(browser: Browser, base: str, lang: str, size: str) -> Page:
    cookie = {"name": "django_language", "value": lang, "url": base}
    page = await support.new_page(
        browser, bypass_csp=True, cookies=[cookie], viewport=VIEWPORTS[size]
    )
    await page.goto(f"{base}/video/")
    return page


class Audit:
    """Every violation of one state, written out before the test asserts."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.violations: dict[str, list[dict]] = {}

    async def axe(self, page: Page, state: str, lang: str, size: str) -> None:
        label = f"{state}-{lang}-{size}"
        self.violations[label] = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "nodes": [n["target"] for n in v["nodes"]][:5],
                "summary": v["nodes"][0]["failureSummary"][:300] if v["nodes"] else "",
            }
            for v in await axe_results(page)
        ]
        await page.screenshot(path=str(ARTIFACTS / f"video-{label}.png"), full_page=True)

    def finish(self) -> None:
        (ARTIFACTS / f"axe-video-{self.name}.json").write_text(
            json.dumps(self.violations, ensure_ascii=False, indent=1)
        )
        failing = {label: [v["id"] for v in found] for label, found in self.violations.items()}
        assert {label: ids for label, ids in failing.items() if ids} == {}


PLAYING = "v => v.videoWidth > 0 && !v.paused && v.readyState >= 2"


@pytest.fixture(autouse=True)
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)


async def test_the_intro_with_the_camera_preview_passes_axe(server):
    await signing_agent(server, "available")
    audit = Audit("intro")
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        for lang, size in COMBINATIONS:
            page = await open_page(browser, server.base, lang, size)
            await expect(page.locator("#video-intro")).to_be_visible()
            await expect(page.locator("#video-availability")).to_have_class(
                "video-availability is-available"
            )
            await page.click("#video-camera-button")
            preview = page.locator("#video-preview")
            await expect(preview).to_be_visible()
            await page.wait_for_function(f"({PLAYING})(document.getElementById('video-preview'))")
            await audit.axe(page, "intro", lang, size)
            await page.context.close()
        await browser.close()
    audit.finish()


async def test_with_no_signing_agent_the_call_back_form_passes_axe(server):
    await signing_agent(server, "offline")
    audit = Audit("unavailable")
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        for lang, size in COMBINATIONS:
            page = await open_page(browser, server.base, lang, size)
            await expect(page.locator("#video-unavailable")).to_be_visible()
            await expect(page.locator("#video-intro")).to_be_hidden()
            await expect(page.locator("#video-chat-link")).to_have_attribute("href", "/chat/")
            await audit.axe(page, "unavailable", lang, size)
            # An empty submit marks the required fields, and stays accessible.
            await page.click("#video-callback-submit")
            await expect(page.locator("#video-callback-phone")).to_have_attribute(
                "aria-invalid", "true"
            )
            await expect(page.locator("#video-callback-phone")).to_be_focused()
            await audit.axe(page, "unavailable-errors", lang, size)
            await page.context.close()
        await browser.close()
    audit.finish()


async def test_waiting_in_the_queue_and_the_end_after_cancelling_pass_axe(server):
    await signing_agent(server, "available")
    audit = Audit("waiting")
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        for lang, size in COMBINATIONS:
            page = await open_page(browser, server.base, lang, size)
            await page.fill("#id_name", "김수어")
            await page.check("#id_consent")
            await page.click("#video-start-submit")
            await expect(page.locator("#video-waiting")).to_be_visible()
            await expect(page.locator("#video-waiting-heading")).to_be_focused()
            # The place in the queue comes from the chat socket, as text with an icon.
            await expect(page.locator("#video-position-line")).to_be_visible()
            await page.wait_for_function("() => window.open120Video && window.open120Video.ws")
            await audit.axe(page, "waiting", lang, size)

            # A reload resumes the same wait (the token is kept in sessionStorage).
            await page.reload()
            await expect(page.locator("#video-waiting")).to_be_visible()
            await expect(page.locator("#video-position-line")).to_be_visible()

            await page.click("#video-cancel")
            await expect(page.locator("#video-ended")).to_be_visible()
            await expect(page.locator("#video-ended-heading")).to_be_focused()
            await audit.axe(page, "ended", lang, size)
            await page.context.close()
        await browser.close()
    audit.finish()


async def test_in_the_call_the_agent_is_large_with_the_side_chat_and_the_rating_after(server):
    """최은영 accepts in her console: the citizen's page shows her video, the side chat
    carries typed text both ways, and hanging up leads to the rating."""
    await signing_agent(server, "offline")
    audit = Audit("call")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[*support.CHROMIUM_ARGS, *FAKE_MEDIA, "--allow-loopback-in-peer-connection"],
        )
        agent = await support.new_page(browser, bypass_csp=True)
        await log_in(agent, server.base, "eunyoung")
        await agent.wait_for_url(f"{server.base}/agent/")
        await go_available(agent)
        citizen = await open_page(browser, server.base, "ko", "phone")
        await page_starts_a_call(citizen)
        accept = agent.locator(".js-accept").first
        await expect(accept).to_be_visible(timeout=20_000)  # the router ticks once a second
        await accept.click()

        await expect(citizen.locator("#video-call")).to_be_visible()
        await citizen.wait_for_function(
            "() => window.open120Video && window.open120Video.state === 'connected'",
            timeout=20_000,
        )
        await citizen.wait_for_function(f"({PLAYING})(document.getElementById('video-remote'))")
        await expect(citizen.locator("#video-status")).to_have_attribute("data-tone", "ok")
        await expect(citizen.locator("#video-remote-empty")).to_be_hidden()

        await citizen.fill("#video-input", "서울시 중구 세종대로 110")
        await citizen.press("#video-input", "Enter")
        await expect(agent.locator(".js-conversation").first).to_contain_text("세종대로 110")
        reply = agent.locator(".js-reply").first
        await reply.fill("주소 확인했습니다.")
        await reply.press("Enter")
        await expect(citizen.locator("#video-log")).to_contain_text("주소 확인했습니다.")
        await audit.axe(citizen, "call", "ko", "phone")
        await citizen.set_viewport_size(DESKTOP)
        await audit.axe(citizen, "call", "ko", "desktop")
        await citizen.set_viewport_size(PHONE)

        await citizen.click("#video-mute")
        await expect(citizen.locator("#video-mute")).to_have_attribute("aria-pressed", "true")
        muted = "() => window.open120Video.stream.getAudioTracks().every(t => !t.enabled)"
        assert await citizen.evaluate(muted)

        await citizen.click("#video-hangup")
        await citizen.click("#video-confirm-end-yes")
        await expect(citizen.locator("#video-ended")).to_be_visible()
        you_ended = await citizen.get_attribute("#video-i18n", "data-ended-citizen")
        await expect(citizen.locator("#video-ended-detail")).to_have_text(you_ended)
        await citizen.click("#video-csat [data-score='5']")
        await expect(citizen.locator("#video-csat-thanks")).to_be_visible()
        await audit.axe(citizen, "rated", "ko", "phone")
        await browser.close()
    audit.finish()


async def page_starts_a_call(page: Page) -> None:
    await page.fill("#id_name", "김수어")
    await page.check("#id_consent")
    await page.click("#video-start-submit")
    await expect(page.locator("#video-waiting")).to_be_visible()


async def test_a_blocked_camera_says_how_to_allow_it_and_offers_the_text_chat(server):
    await signing_agent(server, "available")
    audit = Audit("camera-blocked")
    async with async_playwright() as playwright:
        # No fake permission prompt: the browser refuses the camera, as a citizen who
        # pressed "Block" would have it.
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[*support.CHROMIUM_ARGS, "--use-fake-device-for-media-stream"],
        )
        for lang, size in COMBINATIONS:
            page = await open_page(browser, server.base, lang, size)
            await page.click("#video-camera-button")
            blocked = page.locator("#video-camera-error")
            await expect(blocked).to_be_visible()
            help_text = await page.get_attribute("#video-i18n", "data-camera-denied-help")
            await expect(page.locator("#video-camera-error-help")).to_have_text(help_text)
            await expect(blocked.get_by_role("link")).to_have_attribute("href", "/chat/")
            # Starting without a camera is refused on the page: nothing is queued.
            await page.check("#id_consent")
            await page.click("#video-start-submit")
            await expect(page.locator("#video-error")).to_be_visible()
            await expect(page.locator("#video-intro")).to_be_visible()
            await audit.axe(page, "camera-blocked", lang, size)
            await page.context.close()
        await browser.close()
    audit.finish()
    assert await server.shell(NO_CONTACTS) == "0"


NO_CONTACTS = """
from callcenter.models import Contact
print(Contact.objects.filter(channel="video", answered_at=None, ended_at=None).count())
"""
