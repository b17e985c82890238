"""Supervisors' view of the KakaoTalk bot: per day, how many conversations it answered on
its own, handed over to agents, or lost."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from callcenter import selectors
from callcenter.roles import ADMINISTRATOR, SUPERVISOR, role_required

REPORT_DAYS = 14


@role_required(SUPERVISOR, ADMINISTRATOR)
@require_GET
def bot_containment(request: HttpRequest) -> HttpResponse:
    """The last two weeks of bot containment, newest day first."""
    days = selectors.bot_containment_by_day(days=REPORT_DAYS)
    totals = selectors.BotDay(
        day=days[-1].day,
        conversations=sum(row.conversations for row in days),
        answered_by_bot=sum(row.answered_by_bot for row in days),
        handed_over=sum(row.handed_over for row in days),
    )
    return render(
        request,
        "callcenter/supervisor_bot.html",
        {"days": list(reversed(days)), "totals": totals, "report_days": REPORT_DAYS},
    )
