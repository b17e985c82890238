"""A booked sign-language video call-back end to end in Debian's chromium: the signing agent
sends the link from the call-back page, the citizen opens the texted link on a phone-sized
page (the token leaves the address bar at once), presses start, and the call rings straight
through to the agent's console and connects, with no queue and no offer to accept."""

import json
import re

from playwright.async_api import async_playwright, expect

from tests.browser import support
from tests.browser.support import CHROMIUM, PEOPLE, go_available, log_in
from tests.browser.test_video_call_e2e import CONNECTED, MEDIA_ARGS, PHONE

pytestmark = support.needs_chromium

SETUP = (
    PEOPLE
    + """
import json
from datetime import timedelta
from django.utils import timezone
from callcenter.models import Agent, CallbackRequest, Queue, Skill
from callcenter.services import callbacks
sign = Skill.objects.create(code="sign-language", name="수어", kind="sign_language")
queue = Queue.objects.create(code="sign-video", name="수어 영상", channels=["video"], priority=2)
queue.required_skills.set([sign])
suji = Agent.objects.get(user=agent("suji", "박수지", [sign]))
callback = callbacks.callback_request_create(
    phone="010-2345-6789", name="김수어", source=CallbackRequest.Source.VIDEO, queue=queue,
    preferred_at=timezone.now() + timedelta(minutes=5),
)
callbacks.callback_take(callback=callback, agent=suji)
print(json.dumps({"callback": callback.pk}))
"""
)

LAST_SMS = """
from channels_app.models import OutboundMessage
print(OutboundMessage.objects.filter(channel="sms").latest("id").body)
"""

CALL_ROW = """
import json
from callcenter.models import Contact, ContactEvent
c = Contact.objects.filter(channel="video").select_related("agent").latest("id")
events = list(ContactEvent.objects.filter(contact=c).values_list("type", "data"))
print(json.dumps({"agent": c.agent.display_name, "direction": c.direction, "events": events}))
"""


async def test_the_texted_link_connects_the_citizen_to_the_agent_who_sent_it(tmp_path):
    with support.live_server(tmp_path, SETUP, VIDEO_LOOPBACK_ONLY="1") as server:
        callback_id = server.data["callback"]
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=[*support.CHROMIUM_ARGS, *MEDIA_ARGS]
            )
            console = await support.new_page(
                browser, bypass_csp=True, viewport={"width": 1400, "height": 1000}
            )
            await log_in(console, server.base, "suji")
            await console.wait_for_url(f"{server.base}/agent/")
            await go_available(console)

            # The call-back page, in another tab of the same browser: send the link.
            work = await console.context.new_page()
            await work.goto(f"{server.base}/callbacks/{callback_id}/")
            await expect(work.locator(".js-callback-dial")).to_have_count(0)
            await work.locator("form[action$='/video-link/'] button").click()
            await expect(work.locator(".alert-success")).to_be_visible()

            sms = await server.shell(LAST_SMS)
            link = server.base + re.search(r"/video/\?callback=\S+", sms).group(0)

            citizen = await support.new_page(browser, bypass_csp=True, viewport=PHONE)
            await citizen.goto(link)
            await expect(citizen.locator("#video-callback-banner")).to_be_visible()
            assert "callback=" not in citizen.url  # the token left the address bar
            await citizen.fill("#id_name", "김수어")
            await citizen.check("#id_consent")
            await citizen.click("#video-start-submit")

            await citizen.wait_for_function(CONNECTED, timeout=20_000)
            await console.wait_for_function(CONNECTED, timeout=20_000)
            row = json.loads(await server.shell(CALL_ROW))
            assert (row["agent"], row["direction"]) == ("박수지", "outbound")
            assert ["accepted", {"callback": callback_id}] in row["events"]
            await browser.close()
