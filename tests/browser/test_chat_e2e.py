"""End to end in Debian's chromium: a citizen's web chat answered from the agent console.

The server is what `make run` starts (daphne, SQLite, in-memory layer, router loop in the
process); Playwright drives two browser contexts, one per person. Screenshots land in
tests/artifacts/, and axe-core checks the citizen chat against WCAG 2.2 AA.
"""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect

from tests.live.servers import BASE_DIR, daphne

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(BASE_DIR) / "tests" / "artifacts"
AXE = Path(BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct-horse-battery"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

SETUP = """
from django.contrib.auth.models import Group
from callcenter.models import Agent, Queue, Skill, User
from tickets.services import category_get_or_create_path
korean = Skill.objects.create(code="lang-ko", name="한국어", kind="language")
queue = Queue.objects.create(code="chat", name="채팅", channels=["webchat", "kakao"])
queue.required_skills.set([korean])
user = User.objects.create_user("minji", password="correct-horse-battery", first_name="김민지")
user.groups.add(Group.objects.get(name="agent"))
Agent.objects.create(user=user, display_name="김민지").skills.set([korean])
category_get_or_create_path(path="일반행정/민원서류")
"""

CHECK = """
from callcenter.models import Contact
contact = Contact.objects.get()
ticket = contact.tickets.get()
print(contact.state, ticket.status, ticket.subject, sep="|")
"""

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and os.environ.get("REQUIRE_SERVICES") != "1",
    reason="needs Debian's chromium (apt-get install chromium)",
)


@pytest.fixture
def server(tmp_path):
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update(
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'browser.sqlite3'}",
        DJANGO_SETTINGS_MODULE="callcenter.settings",
        MEDIA_ROOT=str(tmp_path / "media"),
    )
    for command in (["migrate", "-v0"], ["shell", "-c", SETUP]):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=BASE_DIR, env=env, check=True, timeout=120
        )
    with daphne(env, inherit=False) as base:
        yield base, env


async def axe_violations(page: Page) -> list[dict]:
    await page.evaluate(AXE.read_text())  # not a <script>: the CSP allows none inline
    result = await page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
    ]


async def test_a_citizen_chats_with_an_agent_who_files_the_ticket(server):
    base, env = server
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        citizen = await (await browser.new_context(locale="ko-KR", bypass_csp=True)).new_page()
        agent = await (await browser.new_context(locale="ko-KR", bypass_csp=True)).new_page()
        citizen.set_default_timeout(15_000)
        agent.set_default_timeout(15_000)

        # The citizen opens the chat, gives consent and waits in the queue.
        await citizen.goto(f"{base}/chat/")
        assert await axe_violations(citizen) == []
        await citizen.fill("#id_name", "홍길동")
        await citizen.check("#id_consent")
        await citizen.click("#chat-start-submit")
        await expect(citizen.locator("#chat-waiting")).to_be_visible()

        # The agent logs in, goes available and accepts the offer.
        await agent.goto(f"{base}/accounts/login/")
        await agent.fill("#id_username", "minji")
        await agent.fill("#id_password", PASSWORD)
        await agent.click("form button[type=submit], form input[type=submit]")
        await agent.wait_for_url(f"{base}/agent/")
        await agent.select_option("#id_presence", "available")
        await agent.locator("#presence-control form [type=submit]").click()
        accept = agent.locator(".js-accept").first
        await expect(accept).to_be_visible(timeout=20_000)  # the router ticks once a second
        await accept.click()

        # Messages both ways, in real time.
        await expect(citizen.locator("#chat-log")).to_contain_text("김민지")
        await citizen.fill("#chat-input", "등본 떼려면 어디로 가야 하나요?")
        await citizen.press("#chat-input", "Enter")
        conversation = agent.locator(".js-conversation").first
        await expect(conversation).to_contain_text("등본 떼려면 어디로 가야 하나요?")
        reply = agent.locator(".js-reply").first
        await reply.fill("정부24에서 무료로 발급받으실 수 있습니다.")
        await reply.press("Enter")
        await expect(citizen.locator("#chat-log")).to_contain_text("정부24에서 무료로 발급")
        assert await axe_violations(citizen) == []
        await citizen.screenshot(path=str(ARTIFACTS / "citizen-chat.png"), full_page=True)

        # The agent fills the ticket, ends the conversation and finishes wrap-up.
        form = agent.locator("form[id^=ticket-form-]").first
        await expect(form).to_be_visible()
        category = await form.locator(
            "[name=category] option", has_text="일반행정/민원서류"
        ).get_attribute("value")
        await form.locator("[name=category]").select_option(category)
        await form.locator("[name=subject]").fill("주민등록등본 발급 문의")
        await form.locator("[name=answer]").fill("정부24 무료 발급 안내")
        await form.locator("[name=outcome]").select_option("resolve")
        await agent.screenshot(path=str(ARTIFACTS / "agent-console.png"), full_page=True)
        agent.once("dialog", lambda dialog: dialog.accept())
        await agent.locator(".js-end").first.click()
        await expect(citizen.locator("#chat-ended")).to_be_visible()
        await form.locator("[name=wrapup]").click()
        await expect(agent.locator(".js-conversation")).to_have_count(0)
        await browser.close()

    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "manage.py", "shell", "-c", CHECK],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip().splitlines()[-1] == "done|resolved|주민등록등본 발급 문의"
