"""Accessibility in Debian's chromium: axe-core (WCAG 2.2 AA) and the keyboard.

Every citizen page, in Korean and English, at phone (390×844) and desktop (1280×800) sizes,
in the states a citizen passes through: the chat from the start form to the rating, the
widget on a host page, the FAQ, /track/, the happy-call survey and the login page, and the
agent console with an offer and a live chat. One server for the module, as `make run`
starts it. Each test collects every violation before it fails, and writes them to
tests/artifacts/axe-<test>.json (the table in the issue's report comes from there).
"""

import asyncio
import json

import pytest
from playwright.async_api import Browser, Frame, Page, Route, async_playwright, expect

from tests.browser import support
from tests.browser.support import (
    ARTIFACTS,
    PEOPLE,
    axe_results,
    go_available,
    launch,
    live_server,
    log_in,
    needs_chromium,
    start_chat,
)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
LANGUAGES = ("ko", "en")
# A 1×1 PNG for the upload state.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5f2a3"
    "5e0000000049454e44ae426082"
)

SETUP = (
    PEOPLE
    + """
import json, re
from django.utils import timezone
from callcenter.models import Citizen, Queue, Skill
from channels_app.models import OutboundMessage
from knowledge.models import Article
from knowledge.services import article_save
from tickets import services
from tickets.models import Survey

korean = Skill.objects.create(code="lang-ko", name="한국어", kind="language")
english = Skill.objects.create(code="lang-en", name="English", kind="language")
queue = Queue.objects.create(code="chat", name="채팅", channels=["webchat", "kakao"])
queue.required_skills.set([korean])

minji = agent("minji", "김민지", [korean])
agent("jun", "Jun Park", [korean, english])
category = services.category_get_or_create_path(path="일반행정/민원서류")
article = article_save(
    title="주민등록등본 발급", question="등본은 어디서 떼나요?",
    answer="정부24에서 무료로 발급받을 수 있습니다.", author=minji, category=category,
    status=Article.Status.PUBLISHED,
)

tracked = services.ticket_create(
    subject="불법 주차 신고", channel="voice", category=category, created_by=minji,
    citizen=Citizen.objects.create(name="김철수", phone="+821012345678"),
)
services.ticket_resolve(ticket=tracked, actor=minji, answer="단속을 마쳤습니다.")

surveys = {}
for index, key in enumerate(["ko-phone", "ko-desktop", "en-phone", "en-desktop"]):
    phone = f"+8210777700{index:02d}"
    ticket = services.ticket_create(
        subject="쓰레기 수거 문의", channel="voice", category=category, created_by=minji,
        citizen=Citizen.objects.create(name="이영희", phone=phone),
    )
    services.ticket_resolve(ticket=ticket, actor=minji, answer="수거일은 화요일입니다.")
    survey = Survey.objects.get(ticket=ticket)
    services.surveys_send_due(now=max(timezone.now(), survey.send_after))
    body = OutboundMessage.objects.get(to=phone).body
    surveys[key] = re.search(r"/survey/[^/\\s]+/", body).group(0)

print(json.dumps({"article": article.pk, "tracked": tracked.number, "surveys": surveys}))
"""
)

HOST_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>City of Example</title></head>
<body><header><a href="#news" id="host-first-link">News</a></header>
<main><h1>City of Example</h1>
<p><a href="#a" id="host-link-a">Bus timetable</a> · <a href="#b">Parking permits</a></p>
<p><a href="#c">Contact</a></p></main>
<script src="/static/chat/widget.js" data-lang="{lang}" defer></script>
</body></html>"""

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One daphne for the module; yields its base URL and what SETUP made."""
    with live_server(tmp_path_factory.mktemp("a11y"), SETUP) as running:
        yield running.base, running.data


class Audit:
    """Violations and keyboard problems of one test, reported all at once at the end."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.violations: dict[str, list[dict]] = {}
        self.problems: list[str] = []

    async def axe(self, target: Page | Frame, label: str, *, screenshot: Page | None = None):
        self.violations[label] = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "nodes": [n["target"] for n in v["nodes"]][:5],
                "summary": v["nodes"][0]["failureSummary"][:300] if v["nodes"] else "",
            }
            for v in await axe_results(target, iframes=False)
        ]
        if screenshot is not None:
            await screenshot.screenshot(path=str(ARTIFACTS / f"a11y-{label}.png"))

    async def axe_sizes(self, page: Page, label: str) -> None:
        """Audit at desktop and phone width, leaving the page at phone width."""
        for size, viewport in SIZES.items():
            await page.set_viewport_size(viewport)
            await self.axe(page, f"{label}-{size}", screenshot=page)

    def check(self, ok: bool, problem: str) -> None:
        if not ok:
            self.problems.append(problem)

    def finish(self) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        report = {"violations": self.violations, "problems": self.problems}
        (ARTIFACTS / f"axe-{self.name}.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=1)
        )
        failing = {label: [v["id"] for v in found] for label, found in self.violations.items()}
        assert {label: ids for label, ids in failing.items() if ids} == {}
        assert self.problems == []


async def new_page(browser: Browser, base: str, language: str, **options) -> Page:
    """A page ready for axe, with ``language`` chosen on the site (a Korean browser)."""
    language_cookie = {"name": "django_language", "value": language, "url": base}
    return await support.new_page(browser, bypass_csp=True, cookies=[language_cookie], **options)


async def focus_by_tab(page: Page | Frame, selector: str, *, limit: int = 40) -> bool:
    """Press Tab until ``selector`` has focus (a keyboard user's way there)."""
    keyboard = page.page.keyboard if isinstance(page, Frame) else page.keyboard
    for _ in range(limit):
        await keyboard.press("Tab")
        if await page.evaluate("s => document.activeElement.matches(s)", selector):
            return True
    return False


FOCUS_RING = """() => {
  const style = getComputedStyle(document.activeElement);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  const shadow = style.boxShadow !== "none" && /\\d+px \\d+px \\d+px [2-9]/.test(style.boxShadow);
  return outline || shadow;
}"""


HOLD_SENDS = (
    "() => { window.__send = WebSocket.prototype.send; WebSocket.prototype.send = () => {}; }"
)
ACTIVE_ID = "document.activeElement.id || document.activeElement.tagName"


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_public_pages_pass_axe_at_phone_and_desktop_sizes(server, language):
    base, data = server
    audit = Audit(f"pages-{language}")
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        page = await new_page(browser, base, language)
        for size, viewport in SIZES.items():
            await page.set_viewport_size(viewport)
            tag = f"{language}-{size}"

            await page.goto(f"{base}/faq/")
            await audit.axe(page, f"faq-{tag}", screenshot=page)
            # Search results, one found through English words (its badge says so).
            await page.goto(f"{base}/faq/?q=certified+copy+of+resident+registration")
            await expect(page.locator("main .list-group-item")).to_have_count(1)
            await expect(page.locator("main .list-group-item .badge")).to_be_visible()
            await audit.axe(page, f"faq-results-{tag}", screenshot=page)
            await page.goto(f"{base}/faq/{data['article']}/?q=등본")
            await audit.axe(page, f"faq-article-{tag}", screenshot=page)

            await page.goto(f"{base}/track/")
            await audit.axe(page, f"track-{tag}", screenshot=page)
            await page.fill("#id_number", data["tracked"])
            await page.fill("#id_phone", "010-9999-0000")
            async with page.expect_navigation():
                await page.locator("main form [type=submit]").click()
            await audit.axe(page, f"track-error-{tag}", screenshot=page)
            audit.check(
                await page.evaluate("document.activeElement.getAttribute('role') === 'alert'"),
                f"{tag}: focus is not on the /track/ error after a failed lookup",
            )
            await page.fill("#id_number", data["tracked"])
            await page.fill("#id_phone", "010-1234-5678")
            async with page.expect_navigation():
                await page.locator("main form [type=submit]").click()
            await expect(page.locator("[data-status]")).to_be_visible()
            await audit.axe(page, f"track-result-{tag}", screenshot=page)

            await page.goto(base + data["surveys"][tag])
            await audit.axe(page, f"survey-{tag}", screenshot=page)
            await page.click("label[for=score-4]")
            await page.click("label[for=solved-yes]")
            async with page.expect_navigation():
                await page.locator("main form [type=submit]").first.click()
            await expect(page.locator("main .alert-success")).to_be_visible()
            await audit.axe(page, f"survey-thanks-{tag}", screenshot=page)

            await page.goto(f"{base}/accounts/login/")
            await audit.axe(page, f"login-{tag}", screenshot=page)
            await page.fill("#id_username", "minji")
            await page.fill("#id_password", "wrong password")
            async with page.expect_navigation():
                await page.click("form [type=submit]")
            await audit.axe(page, f"login-error-{tag}", screenshot=page)
            audit.check(
                await page.locator("main [role=alert]").count() == 1,
                f"{tag}: the login error has no role=alert",
            )
        await browser.close()
    audit.finish()


TWO_TONE_RING = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const dark = style.outlineStyle === "solid" && parseFloat(style.outlineWidth) >= 2
    && style.outlineColor === "rgb(11, 12, 12)";
  const yellow = style.boxShadow.includes("rgb(255, 191, 71)");
  return {name: element.tagName + (element.id ? "#" + element.id : "") + " " +
    (element.textContent || element.name || "").trim().slice(0, 20) +
    ` (outline ${style.outline}, shadow ${style.boxShadow})`, ring: dark && yellow};
}"""


async def test_the_keyboard_focus_is_a_dark_ring_inside_a_yellow_one_on_every_control(server):
    """One of the two colours contrasts (≥ 3:1) with any background: links on the blue
    navigation, on the grey page, fields and Bootstrap buttons alike."""
    base, _data = server
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        # Reduced motion: Bootstrap then skips its box-shadow transition, so the ring is
        # read as it ends up, not half-way.
        page = await new_page(browser, base, "ko", viewport=DESKTOP, reduced_motion="reduce")
        await page.goto(f"{base}/track/")
        seen = []
        for _ in range(12):  # skip link, brand, FAQ, 한국어, English, two fields, Look up
            await page.keyboard.press("Tab")
            focused = await page.evaluate(TWO_TONE_RING)
            if focused["name"].startswith("BODY"):
                break
            seen.append(focused)
        await browser.close()
    assert [item["name"] for item in seen if not item["ring"]] == []
    assert any(item["name"].startswith("BUTTON") for item in seen)
    assert any(item["name"].startswith("INPUT") for item in seen)


async def header_reachable(
    page: Page | Frame, *, focus: str, button: str = "#chat-end-button"
) -> bool | str:
    """With focus down in the card, can the reader scroll the page back to the header's
    ``button`` (상담 종료, or the widget's close button) and see it there? True, or
    where it is instead."""
    await page.focus(focus)
    await page.evaluate("window.scrollTo(0, 0)")
    return await page.evaluate(
        """selector => {
          const button = document.querySelector(selector);
          const box = button.getBoundingClientRect();
          if (box.width === 0 || box.top < 0 || box.bottom > innerHeight) {
            return `at ${Math.round(box.top)}–${Math.round(box.bottom)} of ${innerHeight}`;
          }
          const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
          return button.contains(hit) || `covered by ${hit && (hit.id || hit.className)}`;
        }""",
        button,
    )


SMALL_SCREENS = {"320px": {"width": 320, "height": 480}, "zoom200": {"width": 640, "height": 400}}


@pytest.mark.parametrize(("language", "agent_name"), [("ko", "minji"), ("en", "jun")])
async def test_a_citizen_chat_passes_axe_and_the_keyboard_in_every_state(
    server, language, agent_name
):
    base, _data = server
    audit = Audit(f"chat-{language}")
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        citizen = await new_page(browser, base, language, viewport=DESKTOP)
        agent = await new_page(browser, base, language, viewport=DESKTOP)

        await citizen.goto(f"{base}/chat/")
        await audit.axe_sizes(citizen, f"chat-start-{language}")

        # Nobody who speaks the language is logged in: waiting, with the call-back offer.
        await citizen.goto(f"{base}/chat/")
        await start_chat(citizen, "홍길동")
        await expect(citizen.locator("#chat-no-agents")).to_be_visible()
        await audit.axe_sizes(citizen, f"chat-waiting-no-agents-{language}")
        await citizen.click("#chat-callback-toggle")
        await audit.axe(citizen, f"chat-callback-form-{language}-phone")
        for label, viewport in SMALL_SCREENS.items():
            await citizen.set_viewport_size(viewport)
            reach = await header_reachable(citizen, focus="#chat-input")
            audit.check(reach is True, f"{language}: header at {label}, call-back form: {reach}")
            await citizen.screenshot(path=str(ARTIFACTS / f"a11y-waiting-{label}-{language}.png"))
        await citizen.set_viewport_size(DESKTOP)

        # The agent logs in and goes available: an offer on the console.
        await log_in(agent, base, agent_name)
        await agent.goto(f"{base}/agent/")
        await audit.axe_sizes(agent, f"console-{language}")
        await agent.set_viewport_size(DESKTOP)
        await go_available(agent)
        accept = agent.locator(".js-accept").first
        await expect(accept).to_be_visible()
        await audit.axe_sizes(agent, f"console-offer-{language}")
        await agent.set_viewport_size(DESKTOP)
        await accept.click()

        # In conversation, with the agent's reply.
        await expect(citizen.locator("#chat-agent-bar")).to_be_visible(timeout=15_000)
        await citizen.fill("#chat-input", "등본 떼려면 어디로 가야 하나요?")
        await citizen.press("#chat-input", "Enter")
        reply = agent.locator(".js-reply").first
        # The first message of a fresh server may wait for the Korean analyser to load.
        await expect(agent.locator(".js-conversation").first).to_contain_text(
            "등본", timeout=45_000
        )
        await reply.fill("정부24에서 무료로 발급받으실 수 있습니다.")
        await reply.press("Enter")
        await expect(citizen.locator("#chat-log")).to_contain_text(
            "정부24에서 무료로 발급", timeout=30_000
        )
        await audit.axe_sizes(citizen, f"chat-conversation-{language}")
        await audit.axe_sizes(agent, f"console-chat-{language}")

        # 상담 종료 asks first, in a dialog; the citizen keeps chatting.
        await citizen.click("#chat-end-button")
        await expect(citizen.locator("#chat-end-modal")).to_be_visible()
        await citizen.wait_for_timeout(400)  # Bootstrap's fade-in
        await audit.axe(citizen, f"chat-end-dialog-{language}-desktop", screenshot=citizen)
        await citizen.locator("#chat-end-modal [data-bs-dismiss=modal]").last.click()
        await expect(citizen.locator("#chat-end-modal")).to_be_hidden()
        await expect(citizen.locator(".modal-backdrop")).to_have_count(0)

        # The attach button shows its focus to a keyboard user.
        await citizen.set_viewport_size(PHONE)
        await citizen.focus("#chat-input")
        await citizen.keyboard.press("Shift+Tab")
        audit.check(
            await citizen.evaluate("document.activeElement.id") == "chat-attach",
            "Shift+Tab from the message box does not reach the attach button",
        )
        audit.check(
            await citizen.evaluate(FOCUS_RING), f"{language}: the attach button shows no focus"
        )

        # The header (title, 상담 종료) stays reachable at 320 px and at 200 % zoom.
        for label, viewport in SMALL_SCREENS.items():
            await citizen.set_viewport_size(viewport)
            reach = await header_reachable(citizen, focus="#chat-input")
            audit.check(reach is True, f"{language}: header at {label}, conversation: {reach}")
            await citizen.screenshot(path=str(ARTIFACTS / f"a11y-chat-{label}-{language}.png"))

        # A message that is not sent yet, and a file on its way.
        await citizen.set_viewport_size(PHONE)
        await citizen.evaluate(HOLD_SENDS)
        await citizen.fill("#chat-input", "사진을 보낼게요.")
        await citizen.press("#chat-input", "Enter")
        await expect(citizen.locator(".msg-pending")).to_have_count(1)
        release = asyncio.Event()

        async def hold(route: Route) -> None:
            await release.wait()
            await route.continue_()

        await citizen.route("**/attachments", hold)
        await citizen.set_input_files(
            "#chat-file", files=[{"name": "road.png", "mimeType": "image/png", "buffer": PNG}]
        )
        await expect(citizen.locator(".msg-uploading")).to_have_count(1)
        await audit.axe_sizes(citizen, f"chat-pending-uploading-{language}")
        release.set()
        await expect(citizen.locator(".msg-uploading")).to_have_count(0)
        await citizen.evaluate("() => { WebSocket.prototype.send = window.__send; }")

        # The agent ends the chat; the citizen rates it.
        agent.once("dialog", lambda dialog: dialog.accept())
        await agent.locator(".js-end").first.click()
        await expect(citizen.locator("#chat-csat")).to_be_visible()
        await audit.axe_sizes(citizen, f"chat-ended-{language}")
        await citizen.locator("#chat-csat [data-score='4']").click()
        await expect(citizen.locator("#chat-csat-thanks")).to_be_visible()
        await citizen.wait_for_timeout(200)
        audit.check(
            await citizen.evaluate("document.activeElement !== document.body"),
            f"{language}: focus dropped to <body> after rating",
        )
        await audit.axe_sizes(citizen, f"chat-rated-{language}")
        await browser.close()
    audit.finish()


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_widget_on_a_host_page_passes_axe_and_keeps_the_keyboard_inside(server, language):
    base, _data = server
    audit = Audit(f"widget-{language}")
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        page = await new_page(
            browser, base, language, viewport=PHONE, is_mobile=True, has_touch=True
        )

        async def host(route: Route) -> None:
            await route.fulfill(content_type="text/html", body=HOST_PAGE.format(lang=language))

        await page.route(f"{base}/host/", host)
        await page.goto(f"{base}/host/")
        await audit.axe(page, f"widget-host-closed-{language}-phone")
        opener = page.locator("button[aria-controls^=open120-chat-frame]")
        await opener.click()
        frame_element = page.locator("iframe[id^=open120-chat-frame]")
        await expect(frame_element).to_be_visible()
        frame = page.frame_locator("iframe[id^=open120-chat-frame]")
        await expect(frame.locator("#chat-start-form")).to_be_visible()
        chat = await (await frame_element.element_handle()).content_frame()
        await audit.axe(chat, f"widget-chat-{language}-phone", screenshot=page)

        # On a phone the open widget covers the page: Tab never lands on the host's links.
        await chat.focus("#chat-close-widget")
        reached = set()
        for _ in range(30):
            await page.keyboard.press("Tab")
            reached.add(
                await page.evaluate("document.activeElement.id || document.activeElement.tagName")
            )
        host_links = {"host-first-link", "host-link-a", "A"}
        audit.check(
            not (reached & host_links), f"{language}: Tab reached host links {reached & host_links}"
        )

        # The close button shows its focus to a keyboard user.
        audit.check(
            await focus_by_tab(chat, "#chat-close-widget"),
            f"{language}: Tab does not reach the widget's close button",
        )
        audit.check(await chat.evaluate(FOCUS_RING), f"{language}: close button shows no focus")

        # At the widget's own desktop size (380×600) the whole start form can be reached.
        await page.set_viewport_size(DESKTOP)
        await page.wait_for_timeout(100)
        await audit.axe(chat, f"widget-chat-{language}-desktop", screenshot=page)
        fits = await chat.evaluate(
            """() => {
              const shell = document.querySelector(".chat-shell");
              const submit = document.getElementById("chat-start-submit");
              submit.scrollIntoView({block: "nearest"});
              const box = submit.getBoundingClientRect();
              return shell.scrollHeight <= shell.clientHeight + 1 && box.bottom <= innerHeight;
            }"""
        )
        audit.check(fits, f"{language}: the widget's start form overflows its 380×600 window")

        # Waiting (call-back form open if nobody can answer): the header stays in reach.
        await start_chat(chat, "홍길동")
        if await chat.locator("#chat-callback-toggle").is_visible():
            await chat.click("#chat-callback-toggle")
        await page.set_viewport_size(SMALL_SCREENS["zoom200"])
        reach = await header_reachable(chat, focus="#chat-input", button="#chat-close-widget")
        audit.check(reach is True, f"{language}: the widget's header at 200 %: {reach}")
        await page.screenshot(path=str(ARTIFACTS / f"a11y-widget-callback-{language}.png"))
        await audit.axe(chat, f"widget-callback-form-{language}-desktop")
        await browser.close()
    audit.finish()
