"""A sign-language video call end to end in Debian's chromium: a citizen's phone-sized page
and a signing agent's console connect through the real server (signalling over
/ws/video/<room>/, media browser to browser on loopback, fake camera and microphone).

Both sides reach the RTCPeerConnection state "connected", each side's remote <video> plays
frames (a width, and a clock that advances), an ICE restart keeps the call, the supervisor's
dashboard shows the call live, and either side hangs up. The time from the agent's accept to
"connected" on both sides goes to tests/artifacts/video-setup-times.json (the closing note's
figure: `bench/video.py` runs it several times), screenshots to tests/artifacts/.
"""

import asyncio
import json

import pytest
from playwright.async_api import Page, async_playwright, expect

from tests.browser import support
from tests.browser.support import ARTIFACTS, CHROMIUM, PEOPLE, go_available, log_in

pytestmark = support.needs_chromium

MEDIA_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
]
PHONE = {"width": 390, "height": 844}

# Two signing agents (one per test: the first ends in wrap-up), a supervisor, the queue.
SETUP = (
    PEOPLE
    + """
from callcenter.models import Queue, Skill
sign = Skill.objects.create(code="sign-language", name="수어", kind="sign_language")
queue = Queue.objects.create(code="sign-video", name="수어 영상", channels=["video"], priority=2)
queue.required_skills.set([sign])
agent("suji", "박수지", [sign])
agent("hana", "정하나", [sign])
agent("mina", "오민아", [sign])
staff("boss", "supervisor", "관리자")
"""
)

CALL_ROW = """
import json
from callcenter.models import Contact, ContactEvent
c = Contact.objects.filter(channel="video").select_related("video", "agent").latest("id")
v = c.video
types = list(ContactEvent.objects.filter(contact=c).values_list("type", flat=True))
print(json.dumps({
    "id": c.pk, "state": c.state, "agent": c.agent.display_name if c.agent else None,
    "answered": bool(c.answered_at), "ended": bool(c.ended_at),
    "ended_by": v.ended_by, "outcome": v.outcome, "restarts": v.ice_restarts,
    "connected": bool(v.connected_at), "events": types,
    "times_in_order": bool(c.queued_at <= c.answered_at <= (c.ended_at or c.answered_at)),
}))
"""

CONNECTED = (
    "() => window.open120Video && window.open120Video.pc"
    " && window.open120Video.pc.connectionState === 'connected'"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with support.live_server(
        tmp_path_factory.mktemp("video-call"),
        SETUP,
        VIDEO_LOOPBACK_ONLY="1",
        VIDEO_RECOVERY_SECONDS="4",  # how long the browsers try before giving up
    ) as running:
        yield running


async def call_row(server) -> dict:
    return json.loads(await server.shell(CALL_ROW))


async def frames_advance(page: Page, selector: str) -> tuple[int, float, float]:
    """The remote video's width and its clock now and 0.8 s later."""
    script = (
        "sel => { const v = document.querySelector(sel);"
        " return [v.videoWidth, v.currentTime, v.paused ? 1 : 0]; }"
    )
    await page.wait_for_function(
        "sel => { const v = document.querySelector(sel); return v && v.videoWidth > 0; }",
        arg=selector,
    )
    width, before, _paused = await page.evaluate(script, selector)
    await asyncio.sleep(0.8)
    _width, after, paused = await page.evaluate(script, selector)
    assert not paused
    return width, before, after


@pytest.mark.parametrize(("agent_name", "who_hangs_up"), [("suji", "citizen"), ("hana", "agent")])
async def test_a_citizen_and_a_signing_agent_see_each_other_then_one_hangs_up(
    server, agent_name, who_hangs_up
):
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*support.CHROMIUM_ARGS, *MEDIA_ARGS]
        )
        # bypass_csp: Playwright's waits evaluate their predicates, which the CSP forbids.
        agent = await support.new_page(
            browser, bypass_csp=True, viewport={"width": 1400, "height": 1000}
        )
        agent.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        await log_in(agent, server.base, agent_name)
        await agent.wait_for_url(f"{server.base}/agent/")
        await go_available(agent)

        citizen = await support.new_page(browser, bypass_csp=True, viewport=PHONE)
        await citizen.goto(f"{server.base}/video/")
        await expect(citizen.locator("#video-intro")).to_be_visible()
        await citizen.fill("#id_name", "김수어")
        await citizen.check("#id_consent")
        await citizen.click("#video-start-submit")
        await expect(citizen.locator("#video-waiting")).to_be_visible()
        await expect(citizen.locator("#video-position-line")).to_be_visible()

        accept = agent.locator(".js-accept").first
        await expect(accept).to_be_visible(timeout=20_000)
        await agent.evaluate("() => { window.acceptedAt = Date.now(); }")
        await accept.click()

        await citizen.wait_for_function(CONNECTED, timeout=20_000)
        await agent.wait_for_function(CONNECTED, timeout=20_000)
        accepted = await agent.evaluate("() => window.acceptedAt")
        connected = [
            await page.evaluate("() => window.open120Video.connectedWallAt")
            for page in (citizen, agent)
        ]
        setup_ms = max(connected) - accepted
        assert 0 < setup_ms < 20_000

        # Each side plays the other's camera: frames with a size, and a clock that moves.
        for page, selector in ((citizen, "#video-remote"), (agent, ".js-video-remote")):
            width, before, after = await frames_advance(page, selector)
            assert width > 0 and after > before
        await expect(citizen.locator("#video-status")).to_have_attribute("data-tone", "ok")

        # The supervisor sees the call in progress, connected, with its running time.
        row = await call_row(server)
        assert (row["state"], row["connected"], row["outcome"]) == ("active", True, "connected")
        boss = await support.new_page(browser, bypass_csp=True)
        await log_in(boss, server.base, "boss")
        await boss.goto(f"{server.base}/supervisor/")
        live = boss.locator(f"[data-video-row='{row['id']}']")
        await expect(live).to_be_visible()
        await expect(live.locator(".js-video-connected")).to_be_visible()
        await expect(live.locator(".js-video-timer")).to_be_visible()

        await citizen.screenshot(path=str(ARTIFACTS / f"video-e2e-{agent_name}-citizen.png"))
        await agent.screenshot(
            path=str(ARTIFACTS / f"video-e2e-{agent_name}-agent.png"), full_page=True
        )
        await live.scroll_into_view_if_needed()
        await boss.screenshot(path=str(ARTIFACTS / f"video-e2e-{agent_name}-supervisor.png"))

        # A broken path is recovered by an ICE restart from the agent's browser (the
        # offerer): the call stays, and the restart is on the contact's timeline.
        await agent.evaluate("() => window.open120Video.restartIce()")
        await agent.wait_for_function(CONNECTED)
        await citizen.wait_for_function(CONNECTED)
        for _ in range(50):
            row = await call_row(server)
            if row["restarts"]:
                break
            await asyncio.sleep(0.1)
        assert row["restarts"] == 1 and "video_restarted" in row["events"]
        width, before, after = await frames_advance(citizen, "#video-remote")
        assert after > before

        # The agent's console reloaded mid-call comes back to the call within moments (a
        # fresh connection, never mistaken for the one the citizen still holds).
        await agent.reload()
        await agent.wait_for_function(CONNECTED, timeout=5_000)
        await citizen.wait_for_function(CONNECTED, timeout=5_000)
        width, before, after = await frames_advance(agent, ".js-video-remote")
        assert after > before

        if who_hangs_up == "citizen":
            await citizen.click("#video-hangup")
            await citizen.click("#video-confirm-end-yes")
        else:
            await agent.locator(".js-video-hangup").first.click()
        await expect(citizen.locator("#video-ended")).to_be_visible()
        await expect(agent.locator(".js-video-summary").first).to_be_visible()
        # The media stops on both sides (whichever socket told the console first).
        await agent.wait_for_function("() => window.open120Video.pc === null")
        await citizen.wait_for_function("() => window.open120Video.pc === null")
        await citizen.screenshot(path=str(ARTIFACTS / f"video-e2e-{agent_name}-ended.png"))

        row = await call_row(server)
        assert row["state"] == "wrapup" and row["answered"] and row["ended"]
        assert row["ended_by"] == who_hangs_up and row["times_in_order"]
        assert {"accepted", "video_connected", "ended"} <= set(row["events"])
        await browser.close()

    times = ARTIFACTS / "video-setup-times.json"
    recorded = json.loads(times.read_text()) if times.exists() else []
    times.write_text(json.dumps([*recorded, setup_ms][-20:]))


# The citizen's path breaks for good: its peer connection reports "failed" and never comes
# back (a stand-in that stays failed replaces the real one, which is closed).
BREAK_THE_PATH = """() => {
  const peer = window.open120Video;
  const real = peer.pc;
  const broken = {
    connectionState: "failed",
    remoteDescription: real.remoteDescription,
    setRemoteDescription: () => Promise.resolve(),
    createAnswer: () => real.createAnswer(),
    setLocalDescription: () => Promise.resolve(),
    localDescription: real.localDescription,
    addIceCandidate: () => Promise.resolve(),
    getSenders: () => [],
    close() {},
  };
  real.onconnectionstatechange = null;
  real.close();
  peer.pc = broken;
  peer.onConnectionState("failed");
}"""


async def test_a_connection_that_cannot_recover_says_so_and_keeps_the_text_chat(server):
    """The citizen's page says it is reconnecting (with the seconds left) while the agent's
    browser restarts ICE, then that the video failed, offering the text chat or the end;
    the timeline has the failure, given up, and the call goes on in the side chat."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*support.CHROMIUM_ARGS, *MEDIA_ARGS]
        )
        agent = await support.new_page(browser, bypass_csp=True)
        await log_in(agent, server.base, "mina")
        await agent.wait_for_url(f"{server.base}/agent/")
        await go_available(agent)
        citizen = await support.new_page(browser, bypass_csp=True, viewport=PHONE)
        await citizen.goto(f"{server.base}/video/")
        await citizen.fill("#id_name", "이수어")
        await citizen.check("#id_consent")
        await citizen.click("#video-start-submit")
        await expect(agent.locator(".js-accept").first).to_be_visible(timeout=20_000)
        await agent.locator(".js-accept").first.click()
        await citizen.wait_for_function(CONNECTED, timeout=20_000)
        await agent.wait_for_function(CONNECTED, timeout=20_000)

        await citizen.evaluate(BREAK_THE_PATH)
        status = citizen.locator("#video-status")
        reconnecting = await citizen.get_attribute("#video-i18n", "data-reconnecting")
        await expect(status).to_contain_text(reconnecting.split("{seconds}")[0])
        await expect(status).to_have_attribute("data-tone", "warn")
        # The citizen's browser asked the agent's (the offerer) to restart ICE.
        for _ in range(50):
            row = await call_row(server)
            if row["restarts"] and "video_failed" in row["events"]:
                break
            await asyncio.sleep(0.1)
        assert row["restarts"] >= 1 and "video_failed" in row["events"]

        failed = citizen.locator("#video-failed")
        await expect(failed).to_be_visible(timeout=10_000)
        await expect(status).to_have_attribute("data-tone", "error")
        await citizen.screenshot(path=str(ARTIFACTS / "video-e2e-failed.png"))
        await citizen.click("#video-keep-chat")
        await expect(failed).to_be_hidden()
        await citizen.fill("#video-input", "영상이 안 돼서 글로 쓸게요")
        await citizen.press("#video-input", "Enter")
        await expect(agent.locator(".js-conversation").first).to_contain_text("글로 쓸게요")

        row = await call_row(server)
        assert row["state"] == "active"  # the contact goes on, by text
        gave_up = await server.shell(
            "from callcenter.models import ContactEvent as E; print(E.objects.filter("
            f"contact_id={row['id']}, type='video_failed', data__gave_up=True).count())"
        )
        assert gave_up == "1"
        await browser.close()
