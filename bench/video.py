"""Sign-language video calls: the time from the agent's accept to "connected" on both sides.

Runs the real thing `--runs` times on one server (daphne, SQLite, `VIDEO_LOOPBACK_ONLY`):
a citizen's phone-sized page in Debian's chromium starts a video call, a signing agent's
console (another browser context, fake camera and microphone) accepts the offer, and the
clock runs from the click on "Accept" until both RTCPeerConnections report "connected"
(wall clock of one machine: `Date.now()` in both pages). Each run then hangs up and the
agent's wrap-up is closed, so the next call is offered to the same console.

    .venv/bin/python bench/video.py --runs 7

Prints each run and the median, and writes var/bench-video.json.
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callcenter.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from playwright.async_api import async_playwright, expect  # noqa: E402

from tests.browser import support  # noqa: E402
from tests.browser.support import PEOPLE, go_available, log_in  # noqa: E402

SETUP = (
    PEOPLE
    + """
from callcenter.models import Queue, Skill
sign = Skill.objects.create(code="sign-language", name="수어", kind="sign_language")
queue = Queue.objects.create(code="sign-video", name="수어 영상", channels=["video"], priority=2)
queue.required_skills.set([sign])
agent("suji", "박수지", [sign])
"""
)
WRAP_UP = """
from callcenter.models import Agent, Contact
from callcenter.services import routing
from callcenter.services.presence import agent_set_presence
agent = Agent.objects.get(user__username="suji")
for contact in Contact.objects.filter(agent=agent, wrapup_ended_at=None).exclude(ended_at=None):
    routing.contact_wrapup_complete(contact=contact, agent=agent, forced=True)
agent.refresh_from_db()
print(agent.presence)
"""
PLAYING = "sel => { const v = document.querySelector(sel); return v && v.videoWidth > 0; }"
CONNECTED = (
    "() => window.open120Video && window.open120Video.pc"
    " && window.open120Video.pc.connectionState === 'connected'"
)
ARGS = [
    *support.CHROMIUM_ARGS,
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
]


async def one_call(browser, base: str, agent) -> dict:
    citizen = await support.new_page(
        browser, bypass_csp=True, viewport={"width": 390, "height": 844}
    )
    started = time.monotonic()
    await citizen.goto(f"{base}/video/")
    await citizen.fill("#id_name", "김수어")
    await citizen.check("#id_consent")
    await citizen.click("#video-start-submit")
    await expect(citizen.locator("#video-waiting")).to_be_visible()
    accept = agent.locator(".js-accept").first
    await expect(accept).to_be_visible(timeout=20_000)
    offered = time.monotonic()
    await agent.evaluate("() => { window.acceptedAt = Date.now(); }")
    await accept.click()
    await citizen.wait_for_function(CONNECTED, timeout=20_000)
    await agent.wait_for_function(CONNECTED, timeout=20_000)
    accepted = await agent.evaluate("() => window.acceptedAt")
    citizen_at = await citizen.evaluate("() => window.open120Video.connectedWallAt")
    agent_at = await agent.evaluate("() => window.open120Video.connectedWallAt")
    for page, selector in ((agent, ".js-video-remote"), (citizen, "#video-remote")):
        await page.wait_for_function(PLAYING, arg=selector)
    first_frames = await agent.evaluate("() => Date.now()")
    marks = {
        "agent": await agent.evaluate("() => window.open120Video.marks"),
        "citizen": await citizen.evaluate("() => window.open120Video.marks"),
    }
    steps = {
        f"{side}.{name}": at - accepted for side, seen in marks.items() for name, at in seen.items()
    }
    await citizen.click("#video-hangup")
    await citizen.click("#video-confirm-end-yes")
    await expect(citizen.locator("#video-ended")).to_be_visible()
    await citizen.context.close()
    return {
        "accept_to_connected_ms": max(citizen_at, agent_at) - accepted,
        "citizen_connected_ms": citizen_at - accepted,
        "agent_connected_ms": agent_at - accepted,
        "accept_to_frames_ms": first_frames - accepted,
        "start_to_offer_s": round(offered - started, 2),
        "steps_ms": dict(sorted(steps.items(), key=lambda item: item[1])),
    }


async def main(runs: int) -> dict:
    with support.live_server(Path(tempfile.mkdtemp()), SETUP, VIDEO_LOOPBACK_ONLY="1") as server:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=support.CHROMIUM, args=ARGS)
            agent = await support.new_page(
                browser, bypass_csp=True, viewport={"width": 1400, "height": 1000}
            )
            await log_in(agent, server.base, "suji")
            await go_available(agent)
            results = []
            for run in range(1, runs + 1):
                result = await one_call(browser, server.base, agent)
                results.append(result)
                print(
                    f"run {run}: accept→connected {result['accept_to_connected_ms']} ms "
                    f"(citizen {result['citizen_connected_ms']}, "
                    f"agent {result['agent_connected_ms']}), "
                    f"frames on both sides by {result['accept_to_frames_ms']} ms",
                    flush=True,
                )
                print("   " + ", ".join(f"{k} {v}" for k, v in result["steps_ms"].items()))
                await server.shell(WRAP_UP)
                await agent.reload()
                await go_available(agent)
            await browser.close()
    figures = [r["accept_to_connected_ms"] for r in results]
    summary = {
        "runs": results,
        "median_ms": statistics.median(figures),
        "min_ms": min(figures),
        "max_ms": max(figures),
    }
    print(
        f"accept → connected on both sides, {runs} calls: median {summary['median_ms']} ms, "
        f"min {summary['min_ms']} ms, max {summary['max_ms']} ms"
    )
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    summary = asyncio.run(main(options.runs))
    out = ROOT / "var" / "bench-video.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(summary, indent=1))
    print(f"written to {out.relative_to(ROOT)}")
