"""Search that learns, as an agent sees it in Debian's chromium: an English search shows
which English words found the article, inserting it records the search's words as a choice,
and once colleagues chose an article for a citizen's phrasing the suggestions put it first
and say "상담사들이 자주 선택"."""

import pytest
from playwright.async_api import async_playwright, expect

from tests.browser.support import (
    CHAT_SETUP,
    agent_takes_chat,
    launch,
    live_server,
    needs_chromium,
    new_page,
)

WAIT = 15_000
PHRASING = "비행기 타고 해외 나가려면 뭐부터 만들어야 돼요"
SETUP = (
    CHAT_SETUP
    + f"""
from knowledge.models import Article
from knowledge.services import article_choice_record, article_save
passport = article_save(
    title="여권 신규 발급과 재발급", question="여권은 어디서 만들어요?",
    answer="여권은 가까운 구청 여권민원실에서 신청하실 수 있습니다.",
    author=None, status="published",
)
article_save(
    title="주정차 위반 과태료 이의신청", question="주차 단속 과태료가 억울하면 어떻게 하나요?",
    answer="과태료 사전통지서를 받으신 뒤 의견진술 기간 안에 이의를 제기하실 수 있습니다.",
    author=None, status="published",
)
article_save(
    title="해외 이사 전입신고", question="해외에서 돌아오면 전입신고는 어떻게 해요?",
    answer="해외에서 귀국하시면 주민센터에서 재등록 신고를 하시면 됩니다.",
    author=None, status="published",
)
for name in ("seoyeon", "jiho"):
    article_choice_record(
        article=passport, query={PHRASING!r}, source="search", user=staff(name, "agent", name)
    )
print(passport.pk)
"""
)

pytestmark = needs_chromium


@pytest.fixture
def server(tmp_path):
    with live_server(tmp_path, SETUP) as running:
        yield running


async def test_an_agent_sees_why_and_teaches_the_search(server):
    base = server.base
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        citizen = await new_page(browser)
        agent = await new_page(browser)
        await agent_takes_chat(agent, citizen, base)

        # Two colleagues chose the passport article for this phrasing: it comes first, and
        # says so; nothing in the phrasing names a passport.
        await citizen.fill("#chat-input", PHRASING)
        await citizen.press("#chat-input", "Enter")
        first = agent.locator(".js-kb-results > li").first
        await expect(first).to_contain_text("여권 신규 발급과 재발급", timeout=WAIT)
        await expect(first).to_contain_text("상담사들이 자주 선택 (2)")

        # An English search shows the words it went through, and inserting the article
        # teaches the search those words for it.
        kb = agent.locator(".js-kb-q").first
        await kb.fill("parking ticket 이의신청")
        await kb.press("Enter")
        first = agent.locator(".js-kb-results > li").first
        await expect(first).to_contain_text("주정차 위반 과태료 이의신청", timeout=WAIT)
        await expect(first).to_contain_text("parking ticket → 과태료")
        await first.locator("button").click()
        await expect(agent.locator(".js-reply").first).to_have_value(
            "과태료 사전통지서를 받으신 뒤 의견진술 기간 안에 이의를 제기하실 수 있습니다.",
            timeout=WAIT,
        )
        recorded = await server.shell(
            "from knowledge.models import ArticleChoice; "
            "c = ArticleChoice.objects.get(user__username='minji'); "
            "print(c.source, c.article.title, c.query, sep='|')"
        )
        assert recorded == "search|주정차 위반 과태료 이의신청|parking ticket 이의신청"
        await browser.close()
