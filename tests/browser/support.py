"""What every browser test shares: Debian's chromium, the server `make run` starts (daphne,
SQLite, in-memory layer, router loop in the process) on its own data, axe-core, and the
steps people take again and again (log in, start a chat, go available)."""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Frame, Page, Playwright, expect

from tests.live.servers import BASE_DIR, daphne

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(BASE_DIR) / "tests" / "artifacts"
AXE = Path(BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PASSWORD = "correct-horse-battery"

needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and os.environ.get("REQUIRE_SERVICES") != "1",
    reason="needs Debian's chromium (apt-get install chromium)",
)

# Shell code defining staff(username, role, name) and agent(username, name, skills), for
# the SETUP scripts run in `manage.py shell` before the server starts.
PEOPLE = f"""
from django.contrib.auth.models import Group
from callcenter.models import Agent, User

def staff(username, role, name):
    user = User.objects.create_user(username, password={PASSWORD!r}, first_name=name)
    user.groups.add(Group.objects.get(name=role))
    return user

def agent(username, name, skills=()):
    user = staff(username, "agent", name)
    Agent.objects.create(user=user, display_name=name).skills.set(skills)
    return user
"""

# A chat queue for Korean speakers, agent minji (김민지) who speaks Korean, and the
# category 일반행정/민원서류.
CHAT_SETUP = (
    PEOPLE
    + """
from callcenter.models import Queue, Skill
from tickets.services import category_get_or_create_path
korean = Skill.objects.create(code="lang-ko", name="한국어", kind="language")
queue = Queue.objects.create(code="chat", name="채팅", channels=["webchat", "kakao"])
queue.required_skills.set([korean])
minji = agent("minji", "김민지", [korean])
category_get_or_create_path(path="일반행정/민원서류")
"""
)
# The chat centre with a supervisor watching it.
SUPERVISED_CHAT_SETUP = (
    CHAT_SETUP
    + """
sora = staff("sora", "supervisor", "박소라")
"""
)


def manage(env: dict[str, str], *command: str, timeout: int = 120) -> str:
    """Run ``manage.py command`` with ``env``; return the last line it printed."""
    result = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=BASE_DIR,
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
        timeout=timeout,
    )
    lines = result.stdout.strip().splitlines()
    return lines[-1] if lines else ""


@dataclass(frozen=True)
class LiveServer:
    """A running daphne: its base URL, its environment and SETUP's last printed line."""

    base: str
    env: dict[str, str]
    output: str

    @property
    def data(self) -> dict:
        """SETUP's last printed line, read as JSON."""
        return json.loads(self.output)

    async def shell(self, code: str) -> str:
        """Run ``code`` in `manage.py shell` on the server's database; its last line."""
        return await asyncio.to_thread(manage, self.env, "shell", "-c", code, timeout=60)


@contextmanager
def live_server(tmp_path: Path, setup: str, **settings: str) -> Iterator[LiveServer]:
    """Migrate a fresh SQLite database in ``tmp_path``, run ``setup`` in `manage.py shell`,
    and serve it with daphne (DEBUG, plus ``settings`` as environment variables)."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update(
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'browser.sqlite3'}",
        DJANGO_SETTINGS_MODULE="callcenter.settings",
        MEDIA_ROOT=str(tmp_path / "media"),
        **settings,
    )
    manage(env, "migrate", "-v0")
    output = manage(env, "shell", "-c", setup)
    with daphne(env, inherit=False) as base:
        yield LiveServer(base=base, env=env, output=output)


async def launch(playwright: Playwright) -> Browser:
    """Debian's chromium, headless."""
    return await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


async def new_page(browser: Browser, *, cookies: Iterable[dict] = (), **options) -> Page:
    """A page in a context of its own (a Korean browser unless ``locale`` says otherwise),
    waiting up to 15 s. Pass ``bypass_csp=True`` to run axe: the site's CSP refuses it."""
    context = await browser.new_context(**{"locale": "ko-KR", **options})
    if cookies:
        await context.add_cookies(list(cookies))
    page = await context.new_page()
    page.set_default_timeout(15_000)
    return page


async def axe_results(target: Page | Frame, **options) -> list[dict]:
    """axe-core's WCAG 2.2 AA violations in ``target``, as axe reports them."""
    await target.evaluate(AXE.read_text())  # not a <script>: the CSP allows none inline
    result = await target.evaluate(
        "([tags, more]) => axe.run(document, {runOnly: {type: 'tag', values: tags}, ...more})",
        [WCAG_22_AA, options],
    )
    return result["violations"]


async def axe_violations(page: Page) -> list[dict]:
    """axe-core's WCAG 2.2 AA violations in ``page``: rule, impact and the nodes."""
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in await axe_results(page)
    ]


async def log_in(page: Page, base: str, username: str) -> None:
    """Log ``username`` in through the login form and wait for the page it leads to."""
    await page.goto(f"{base}/accounts/login/")
    await page.fill("#id_username", username)
    await page.fill("#id_password", PASSWORD)
    async with page.expect_navigation():
        await page.click("form button[type=submit], form input[type=submit]")


async def start_chat(page: Page | Frame, name: str) -> None:
    """On the open chat page: give ``name`` and consent, start, and wait in the queue."""
    await page.fill("#id_name", name)
    await page.check("#id_consent")
    await page.click("#chat-start-submit")
    await expect(page.locator("#chat-waiting")).to_be_visible()


async def agent_takes_chat(
    agent: Page, citizen: Page, base: str, *, username: str = "minji", name: str = "홍길동"
) -> None:
    """``username`` logs in and goes available; the citizen starts a web chat as ``name``;
    the agent accepts its offer (the router ticks once a second)."""
    await log_in(agent, base, username)
    await agent.wait_for_url(f"{base}/agent/")
    await go_available(agent)
    await citizen.goto(f"{base}/chat/")
    await start_chat(citizen, name)
    accept = agent.locator(".js-accept").first
    await expect(accept).to_be_visible(timeout=20_000)
    await accept.click()


async def go_available(agent: Page) -> None:
    """On the agent console: set the presence to available."""
    # After the socket's hello, which shows the stored presence in the list.
    await expect(agent.locator("#socket-state")).to_have_attribute("data-state", "connected")
    await agent.select_option("#id_presence", "available")
    await agent.locator("#presence-control form [type=submit]").click()
