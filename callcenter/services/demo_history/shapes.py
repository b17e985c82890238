"""The shapes the generated history follows: volume by day and hour, channels and
languages, talk, wrap-up and patience times, ticket, transfer and survey shares, citizens'
names; the calendar helpers (day weights, a fast SLA clock, the surveys' quiet hours) and
the random draws the simulation and the rows share."""

from __future__ import annotations

import bisect
import math
import random
from datetime import date, datetime, time, timedelta

from callcenter.models import Channel, Language
from tickets.sla import SEOUL, WorkingTime, is_korean_holiday

# Contacts by hour of the day (Seoul): quiet nights, morning peak, lunch dip, afternoon bump.
HOUR_WEIGHTS = (
    0.55, 0.38, 0.28, 0.24, 0.24, 0.34, 0.7, 1.7,
    4.6, 9.6, 10.0, 8.9, 5.1, 5.9, 8.7, 8.3,
    7.4, 5.6, 3.5, 2.7, 2.2, 1.8, 1.3, 0.9,
)  # fmt: skip
# Monday is the heaviest day; Saturday and Sunday about 40 % of a weekday.
WEEKDAY_WEIGHTS = (1.24, 1.05, 1.0, 0.98, 0.95, 0.43, 0.38)
HOLIDAY_WEIGHT = 0.42
DAY_NOISE = 0.07

# Korean-speaking citizens' channels; a few per cent sign-language video.
CHANNEL_WEIGHTS = {
    Channel.VOICE: 58,
    Channel.KAKAO: 17,
    Channel.WEBCHAT: 14,
    Channel.SMS: 7,
    Channel.VIDEO: 4,
}
FOREIGN_SHARE = 0.04
FOREIGN_CHANNELS = {Channel.VOICE: 70, Channel.WEBCHAT: 15, Channel.KAKAO: 15}
FOREIGN_LANGUAGES = (Language.ENGLISH, Language.CHINESE, Language.VIETNAMESE, Language.JAPANESE)

# Seconds: (median, spread) of lognormal talk and wrap-up times; patience (mean) before a
# waiting citizen gives up; time from an agent being free to the contact being answered.
TALK = {
    Channel.VOICE: (170, 0.55),
    Channel.VIDEO: (360, 0.5),
    Channel.WEBCHAT: (420, 0.55),
    Channel.KAKAO: (480, 0.55),
    Channel.SMS: (720, 0.6),
}
WRAP = {
    Channel.VOICE: (45, 0.5),
    Channel.VIDEO: (60, 0.5),
    Channel.WEBCHAT: (30, 0.5),
    Channel.KAKAO: (30, 0.5),
    Channel.SMS: (25, 0.5),
}
PATIENCE = {
    Channel.VOICE: 150,
    Channel.VIDEO: 180,
    Channel.WEBCHAT: 300,
    Channel.KAKAO: 420,
    Channel.SMS: 1800,
}
SHORT_ABANDON = {Channel.VOICE: 0.03, Channel.VIDEO: 0.02}  # chats: 1 %
HOLD_SHARE = 0.25  # of answered calls, held 15–150 s (inside the talk span)
CHATS_PER_AGENT = 3

TICKET_SHARE = 0.9  # of answered contacts; the rest were quick answers
REPEAT_SHARE = 0.11  # arrivals that are the same citizen again on a recent ticket's category
TRANSFER_SHARE = 0.8  # of inquiries that need a department
DEPARTMENT_ANSWERS = 0.8  # transferred tickets the department answers (some late)
LEFT_OPEN = 0.04  # of the rest: still open, the agent follows up
SURVEY_ANSWERED = 0.3
SCORES = (1, 2, 3, 4, 5)
SCORE_WEIGHTS = (3, 4, 8, 27, 58)
SCORE_WEIGHTS_AFTER_WAIT = (6, 7, 12, 30, 45)  # waited over a minute, or a late answer
TRANSFER_DUE = timedelta(days=7)
QUIET_FROM, QUIET_UNTIL = time(21, 0), time(9, 0)

SURNAMES = (
    "김이박최정강조윤장임한오서신권황안송전홍유고문양손배백허남심노하곽성차주우구민류"
    "나진지엄채원천방공현함변염여추도소석선설마길연위표명기반라왕금옥육인맹제모탁국어은편용예경봉사부"
)
GIVEN = "민서지현수영준우하윤도예은호성진연주원재희정혜아유태경승동상나래빈찬솔다인채서건한"
GREETING = "안녕하세요, 120 시민상담센터입니다. 무엇을 도와드릴까요?"
THANKS = "네, 알겠습니다. 감사합니다."
BREAK_REASON = "휴식"


class _Clock:
    """WorkingTime.add for many tickets: the working intervals of the whole range once,
    then two bisections per due time instead of a walk over the days."""

    def __init__(self, working: WorkingTime, first: date, last: date) -> None:
        self.always_open = working.always_open
        self.openings: list[float] = []
        self.closings: list[float] = []
        self.before: list[float] = []
        total = 0.0
        day = first
        while day <= last:
            for opening, closing in working.intervals(day):
                self.openings.append(opening.timestamp())
                self.closings.append(closing.timestamp())
                self.before.append(total)
                total += closing.timestamp() - opening.timestamp()
            day += timedelta(days=1)

    def add(self, start: datetime, minutes: int) -> datetime | None:
        if self.always_open:
            return start + timedelta(minutes=minutes)
        at = start.timestamp()
        index = bisect.bisect_right(self.closings, at)
        if index >= len(self.openings):
            return None
        worked = self.before[index] + max(0.0, at - self.openings[index])
        target = worked + minutes * 60
        # A target at the very end of an interval is its closing time, as WorkingTime.add says.
        found = bisect.bisect_left(self.before, target) - 1
        if found >= len(self.openings) or (
            found == len(self.openings) - 1
            and target > self.before[found] + self.closings[found] - self.openings[found]
        ):
            return None
        return datetime.fromtimestamp(self.openings[found] + target - self.before[found], SEOUL)


def _lognormal(rng: random.Random, median: float, spread: float, low: float, high: float):
    return min(high, max(low, rng.lognormvariate(math.log(median), spread)))


def _send_after(moment: datetime) -> datetime:
    """A happy call is never sent at night (21:00–09:00 Seoul): the next morning."""
    local = moment.astimezone(SEOUL)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return moment
    day = local.date() + timedelta(days=1) if local.time() >= QUIET_FROM else local.date()
    return datetime.combine(day, QUIET_UNTIL, tzinfo=SEOUL)


def _citizen_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)


def _new_citizen_language(index: int) -> str:
    """One generated citizen in 25 speaks English, Chinese, Vietnamese or Japanese."""
    if index % 25 == 7:
        return FOREIGN_LANGUAGES[index // 25 % len(FOREIGN_LANGUAGES)]
    return Language.KOREAN


def _day_weight(day: date) -> float:
    if is_korean_holiday(day):
        return HOLIDAY_WEIGHT
    return WEEKDAY_WEIGHTS[day.weekday()]
