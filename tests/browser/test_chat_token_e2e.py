"""In Debian's chromium: after a chat ends, the page keeps its token only for the after-end
window (CHAT_AFTER_END_SECONDS), then forgets it and offers a new chat."""

import os
import subprocess
import sys

import pytest
from playwright.async_api import async_playwright, expect

from tests.browser.test_chat_e2e import CHROMIUM, CHROMIUM_ARGS, SETUP
from tests.live.servers import BASE_DIR, daphne

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and os.environ.get("REQUIRE_SERVICES") != "1",
    reason="needs Debian's chromium (apt-get install chromium)",
)
STORED = "() => window.localStorage.getItem('open120.chat')"


@pytest.fixture
def server(tmp_path):
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update(
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'browser.sqlite3'}",
        DJANGO_SETTINGS_MODULE="callcenter.settings",
        MEDIA_ROOT=str(tmp_path / "media"),
        OPEN120_ENV_FILE=os.devnull,
        CHAT_AFTER_END_SECONDS="4",
    )
    for command in (["migrate", "-v0"], ["shell", "-c", SETUP]):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=BASE_DIR, env=env, check=True, timeout=120
        )
    with daphne(env, inherit=False) as base:
        yield base


async def test_an_ended_chat_is_forgotten_when_its_after_end_window_closes(server):
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        citizen = await (await browser.new_context(locale="ko-KR")).new_page()
        citizen.set_default_timeout(15_000)
        await citizen.goto(f"{server}/chat/")
        await citizen.fill("#id_name", "홍길동")
        await citizen.check("#id_consent")
        await citizen.click("#chat-start-submit")
        await expect(citizen.locator("#chat-waiting")).to_be_visible()
        await citizen.fill("#chat-input", "제 사정은 이렇습니다")
        await citizen.press("#chat-input", "Enter")
        await expect(citizen.locator("#chat-log")).to_contain_text("제 사정은 이렇습니다")
        await citizen.click("#chat-end-button")
        await citizen.click("#chat-end-confirm")
        await expect(citizen.locator("#chat-ended")).to_be_visible()

        # A reload inside the window shows the ended screen, not the conversation.
        await citizen.reload()
        await expect(citizen.locator("#chat-ended")).to_be_visible()
        assert "제 사정은 이렇습니다" not in await citizen.locator("#chat-log").inner_text()
        assert await citizen.evaluate(STORED) is not None

        # When the window closes the page forgets the token and offers a new chat.
        await expect(citizen.locator("#chat-start")).to_be_visible(timeout=10_000)
        await expect(citizen.locator("#chat-start-notice")).to_be_visible()
        assert await citizen.evaluate(STORED) is None
        await browser.close()
