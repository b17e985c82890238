"""Load the demo centre: people, queues, categories, the KB and 30 days of history.

Idempotent: every row is found by a natural key (username, code, external id, a contact's
provider id) before it is created, so a second run changes no counts.
"""

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from callcenter import roles
from callcenter.models import (
    Agent,
    CallbackRequest,
    CannedReply,
    Channel,
    Citizen,
    Contact,
    Message,
    Queue,
    Skill,
    User,
)
from callcenter.services.callbacks import callback_attempt_record, callback_request_create
from callcenter.services.contacts import contact_create
from callcenter.services.messages import message_create
from knowledge.models import Article
from knowledge.services import article_save
from tickets.models import (
    BusinessCalendar,
    CalendarClosure,
    Department,
    Officer,
    ServiceAttribute,
    SlaPolicy,
    Ticket,
)
from tickets.services import (
    category_get_or_create_path,
    ticket_create,
    ticket_resolve,
    ticket_transfer,
)

DEMO_PASSWORD = "open120-demo"  # noqa: S105 - printed for the demo; make run only
HISTORY_DAYS = 30
HISTORY_CONTACTS = 420
SEED = 120

SKILLS = [
    ("lang-ko", "한국어", Skill.Kind.LANGUAGE),
    ("lang-en", "영어", Skill.Kind.LANGUAGE),
    ("lang-zh", "중국어", Skill.Kind.LANGUAGE),
    ("lang-ja", "일본어", Skill.Kind.LANGUAGE),
    ("lang-vi", "베트남어", Skill.Kind.LANGUAGE),
    ("lang-mn", "몽골어", Skill.Kind.LANGUAGE),
    ("sign-language", "수어", Skill.Kind.SIGN_LANGUAGE),
    ("topic-traffic", "교통", Skill.Kind.TOPIC),
    ("topic-tax", "세무", Skill.Kind.TOPIC),
    ("topic-welfare", "복지", Skill.Kind.TOPIC),
    ("topic-environment", "환경·청소", Skill.Kind.TOPIC),
    ("topic-housing", "주택·건축", Skill.Kind.TOPIC),
    ("topic-health", "보건", Skill.Kind.TOPIC),
    ("topic-culture", "문화·관광", Skill.Kind.TOPIC),
    ("topic-admin", "일반행정", Skill.Kind.TOPIC),
]

# Top-level categories with the ASCII codes Open311 apps see.
TOP_CATEGORIES = [
    ("교통", "traffic"),
    ("세무", "tax"),
    ("복지", "welfare"),
    ("환경·청소", "environment"),
    ("주택·건축", "housing"),
    ("보건", "health"),
    ("문화·관광", "culture"),
    ("일반행정", "admin"),
]

CANNED_REPLIES = [
    ("인사", "안녕하세요, 120 시민상담센터 상담사입니다. 무엇을 도와드릴까요?"),
    ("확인 중", "확인해 드리겠습니다. 잠시만 기다려 주세요."),
    ("본인 확인", "정확한 안내를 위해 성함과 연락처를 확인해도 될까요?"),
    ("부서 이관", "담당 부서로 전달하여 처리 결과를 안내해 드리겠습니다."),
    ("추가 문의", "더 궁금하신 점이 있으신가요?"),
    ("마무리", "이용해 주셔서 감사합니다. 좋은 하루 보내세요."),
    ("Greeting (EN)", "Hello, this is the 120 City Call Center. How can I help you?"),
]

QUEUES = [
    # code, name, channels, required skills, priority, service-level seconds
    ("general", "일반", ["voice", "open311"], ["lang-ko"], 0, 20),
    ("foreign", "외국어", ["voice", "webchat", "kakao"], [], 1, 20),
    ("sign-video", "수어 영상", ["video"], ["sign-language"], 2, 20),
    ("chat", "채팅", ["webchat", "kakao", "sms", "whatsapp"], ["lang-ko"], 0, 60),
]
# Queues with opening hours (a business calendar; empty hours: Mon–Fri 09–18, Korean public
# holidays closed): outside them callers hear the after-hours message and may leave a
# voicemail. The general line answers around the clock, as 120 centres do.
QUEUE_CALENDARS = {"foreign": "외국어 상담 시간"}

# Contacts per hour of the day: night line, morning peak, lunch dip, afternoon peak.
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 1, 1, 2, 5, 10, 10, 9, 6, 9, 10, 9, 8, 5, 3, 2, 2, 2, 1, 1]

CHANNEL_WEIGHTS = [
    (Channel.VOICE, 55),
    (Channel.WEBCHAT, 17),
    (Channel.KAKAO, 15),
    (Channel.SMS, 5),
    (Channel.VIDEO, 4),
    (Channel.OPEN311, 4),
]


@dataclass(frozen=True)
class DemoStory:
    """What happens to one demo contact, drawn up front from its own random stream."""

    queued_at: datetime
    agent: Agent
    category: str
    inquiry: dict
    wait: timedelta
    abandoned: bool
    talk: timedelta
    wrapup: timedelta


def _read_json(app: str, name: str):
    return json.loads((Path(settings.BASE_DIR) / app / "demo" / name).read_text(encoding="utf-8"))


def _read_jsonl(app: str, name: str) -> list[dict]:
    path = Path(settings.BASE_DIR) / app / "demo" / name
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


class Command(BaseCommand):
    help = "Load demo departments, categories, queues, people, KB articles and 30 days of history."

    def handle(self, *args, **options) -> None:
        people = _read_json("callcenter", "people.json")
        articles = _read_jsonl("knowledge", "articles.jsonl")
        inquiries = _read_json("tickets", "inquiries.json")
        services = _read_json("tickets", "services.json")
        with transaction.atomic():
            skills = self._skills()
            self._categories(articles, inquiries)
            self._services(services)
            self._sla(services)
            departments = self._departments(articles, people)
            queues = self._queues(skills)
            admin = self._user("admin", "관리자", [roles.ADMINISTRATOR], staff=True, superuser=True)
            agents = [self._agent(row, skills) for row in people["agents"]]
            supervisors = [
                self._user(row["username"], row["name"], [roles.SUPERVISOR], staff=True)
                for row in people["supervisors"]
            ]
            officers = [self._officer(row, departments) for row in people["officers"]]
            citizens = [self._citizen(row) for row in people["citizens"]]
            self._articles(articles, departments, admin)
            self._canned_replies()
        created = self._history(agents, citizens, queues, departments, inquiries, supervisors[0])
        self._callbacks(citizens, agents)
        self._report(agents, supervisors, officers, created)

    # --- reference data ------------------------------------------------------------------
    def _skills(self) -> dict[str, Skill]:
        skills = {}
        for code, name, kind in SKILLS:
            skills[code], _ = Skill.objects.update_or_create(
                code=code, defaults={"name": name, "kind": kind}
            )
        return skills

    def _categories(self, articles: list[dict], inquiries: dict) -> None:
        for order, (name, code) in enumerate(TOP_CATEGORIES):
            top = category_get_or_create_path(path=name, code=code)
            if top.sort_order != order:
                top.sort_order = order
                top.save(update_fields=["sort_order"])
        for path in sorted({a["category"] for a in articles} | set(inquiries)):
            category_get_or_create_path(path=path)

    def _services(self, services: dict) -> None:
        """Descriptions, keywords and questions Open311 apps see for the public categories."""
        for path, service in services["services"].items():
            category = category_get_or_create_path(path=path)
            category.description = service["description"]
            category.keywords = service["keywords"]
            category.save(update_fields=["description", "keywords"])
            for attribute in service.get("attributes", []):
                ServiceAttribute.objects.update_or_create(
                    category=category,
                    code=attribute["code"],
                    defaults={k: v for k, v in attribute.items() if k != "code"},
                )

    def _sla(self, services: dict) -> None:
        """The city hall's working-hours calendar and the SLA policies that use it."""
        spec = services["calendar"]
        calendar, _ = BusinessCalendar.objects.get_or_create(
            name=spec["name"], defaults={"hours": spec["hours"]}
        )
        for day, reason in spec["closures"]:
            CalendarClosure.objects.get_or_create(
                calendar=calendar, date=day, defaults={"reason": reason}
            )
        for policy in services["policies"]:
            category = policy.get("category")
            SlaPolicy.objects.update_or_create(
                name=policy["name"],
                defaults={
                    "calendar": calendar,
                    "category": category_get_or_create_path(path=category) if category else None,
                    "priority": policy.get("priority"),
                    "channel": policy.get("channel", ""),
                    "first_response_minutes": policy["first_response_minutes"],
                    "resolution_minutes": policy["resolution_minutes"],
                },
            )

    def _departments(self, articles: list[dict], people: dict) -> dict[str, Department]:
        codes = {
            row["department"]: row["username"].removeprefix("officer-")
            for row in people["officers"]
        }
        names = sorted({a["department"] for a in articles} | set(codes))
        departments = {}
        for index, name in enumerate(names, start=1):
            departments[name], _ = Department.objects.get_or_create(
                name=name,
                defaults={
                    "code": codes.get(name, f"dept-{index:02d}"),
                    "phone": f"02-120-{1000 + index}",
                },
            )
        return departments

    def _queues(self, skills: dict[str, Skill]) -> dict[str, Queue]:
        queues = {}
        for code, name, channels, required, priority, threshold in QUEUES:
            queue, _ = Queue.objects.update_or_create(
                code=code,
                defaults={
                    "name": name,
                    "channels": channels,
                    "priority": priority,
                    "service_level_seconds": threshold,
                    "calendar": self._queue_calendar(code),
                },
            )
            queue.required_skills.set([skills[c] for c in required])
            queues[code] = queue
        return queues

    @staticmethod
    def _queue_calendar(code: str) -> BusinessCalendar | None:
        if code not in QUEUE_CALENDARS:
            return None
        calendar, _ = BusinessCalendar.objects.get_or_create(name=QUEUE_CALENDARS[code])
        return calendar

    # --- people --------------------------------------------------------------------------
    def _user(
        self, username: str, name: str, role_names: list[str], *, staff=False, superuser=False
    ) -> User:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": name,
                "is_staff": staff,
                "is_superuser": superuser,
                "email": f"{username}@open120.example",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user.groups.add(*Group.objects.filter(name__in=role_names))
        return user

    def _agent(self, row: dict, skills: dict[str, Skill]) -> Agent:
        user = self._user(row["username"], row["name"], [roles.AGENT])
        agent, _ = Agent.objects.get_or_create(user=user, defaults={"display_name": row["name"]})
        agent.skills.set([skills[code] for code in row["skills"] if code in skills])
        return agent

    def _officer(self, row: dict, departments: dict[str, Department]) -> Officer:
        user = self._user(row["username"], row["name"], [roles.OFFICER])
        officer, _ = Officer.objects.get_or_create(
            user=user, defaults={"department": departments[row["department"]]}
        )
        return officer

    def _citizen(self, row: dict) -> Citizen:
        citizen = Citizen.objects.filter(phone=row["phone"]).first()
        if citizen is None:
            citizen = Citizen.objects.create(
                name=row["name"],
                phone=row["phone"],
                kakao_user_key=row.get("kakao_user_key", ""),
                preferred_language=row.get("preferred_language", "ko"),
                needs_assistance=row.get("needs_assistance", False),
                consent_privacy=True,
                consent_contact=True,
                consented_at=timezone.now(),
            )
        return citizen

    def _canned_replies(self) -> None:
        for order, (title, text) in enumerate(CANNED_REPLIES):
            CannedReply.objects.get_or_create(
                title=title,
                defaults={
                    "text": text,
                    "sort_order": order,
                    "language": "en" if "(EN)" in title else "ko",
                },
            )

    def _articles(self, rows: list[dict], departments: dict[str, Department], author: User) -> None:
        existing = set(
            Article.objects.exclude(external_id="").values_list("external_id", flat=True)
        )
        for row in rows:
            if row["external_id"] in existing:
                continue
            article = article_save(
                external_id=row["external_id"],
                title=row["title"],
                question=row["question"],
                answer=row["answer"],
                category=category_get_or_create_path(path=row["category"]),
                department=departments.get(row["department"]),
                tags=row.get("tags", []),
                synonyms=row.get("synonyms", []),
                status=row.get("status", Article.Status.PUBLISHED),
                author=author,
                note="demo",
            )
            article.review_due = timezone.localdate() + timedelta(days=180)
            article.save(update_fields=["review_due"])

    # --- history -------------------------------------------------------------------------
    def _history(self, agents, citizens, queues, departments, inquiries, supervisor) -> int:
        """A few hundred finished contacts with their tickets, loaded once."""
        if Contact.objects.filter(provider_id__startswith="demo-").exists():
            return 0
        now = timezone.now()
        categories = sorted(inquiries)
        channels, weights = zip(*CHANNEL_WEIGHTS, strict=True)
        agents_by_queue = {
            code: [a for a in agents if a.has_skills(queue.required_skills.all())]
            for code, queue in queues.items()
        }
        created = 0
        self.stdout.write("Loading 30 days of demo history ", ending="")
        for n in range(1, HISTORY_CONTACTS + 1):
            if n % 20 == 0:
                self.stdout.write(".", ending="")
                self.stdout.flush()
            rng = random.Random(f"{SEED}-{n}")
            channel = rng.choices(channels, weights)[0]
            citizen = rng.choice(citizens)
            category = rng.choice(categories)
            queue = self._queue_for(channel, citizen, queues)
            story = DemoStory(
                queued_at=self._demo_time(rng, now),
                agent=rng.choice(agents_by_queue[queue.code] or agents),
                category=category,
                inquiry=rng.choice(inquiries[category]),
                wait=timedelta(seconds=min(rng.expovariate(1 / 25), 400)),
                abandoned=rng.random() < 0.07,
                talk=timedelta(seconds=rng.randint(90, 600)),
                wrapup=timedelta(seconds=rng.randint(20, 150)),
            )
            if story.queued_at + story.wait + story.talk + story.wrapup > now:
                continue  # would still be going on: the history holds finished contacts only
            with transaction.atomic():
                contact, _ = contact_create(
                    channel=channel,
                    provider_id=f"demo-{n:05d}",
                    citizen=citizen,
                    queue=queue,
                    language=citizen.preferred_language,
                    queued_at=story.queued_at,
                )
                self._play(contact, story, departments, supervisor, rng)
            created += 1
        self.stdout.write(" done")
        return created

    def _callbacks(self, citizens: list[Citizen], agents: list[Agent]) -> None:
        """A work list to look at: two call-backs waiting, one taken, one tried once."""
        if CallbackRequest.objects.exists():
            return
        now = timezone.now()
        with transaction.atomic():
            for citizen, source, minutes, note in (
                (citizens[0], CallbackRequest.Source.CHAT, 12, "여권 재발급 서류 문의"),
                (citizens[1], CallbackRequest.Source.CONSOLE, 45, "대형폐기물 수거 일정 확인"),
            ):
                callback_request_create(
                    phone=citizen.phone,
                    citizen=citizen,
                    source=source,
                    note=note,
                    at=now - timedelta(minutes=minutes),
                )
            callback_request_create(
                phone=citizens[2].phone,
                citizen=citizens[2],
                source=CallbackRequest.Source.CONSOLE,
                note="주정차 과태료 이의신청 절차",
                agent=agents[0],
                actor=agents[0].user,
                at=now - timedelta(minutes=30),
            )
            tried = callback_request_create(
                phone=citizens[3].phone,
                citizen=citizens[3],
                source=CallbackRequest.Source.DEPARTMENT_ANSWER,
                note="도로관리과 답변 안내",
                agent=agents[1],
                actor=agents[1].user,
                at=now - timedelta(hours=2),
            )
            callback_attempt_record(
                callback=tried, user=agents[1].user, result=CallbackRequest.Result.NO_ANSWER
            )

    @staticmethod
    def _demo_time(rng: random.Random, now: datetime) -> datetime:
        """Within the last 30 days: busier on weekdays and in office hours (Seoul time)."""
        today = timezone.localdate(now)
        days = [today - timedelta(days=offset) for offset in range(HISTORY_DAYS)]
        day = rng.choices(days, weights=[4 if d.weekday() < 5 else 1 for d in days])[0]
        hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
        return datetime(
            day.year,
            day.month,
            day.day,
            hour,
            rng.randint(0, 59),
            rng.randint(0, 59),
            tzinfo=timezone.get_current_timezone(),
        )

    @staticmethod
    def _queue_for(channel: str, citizen: Citizen, queues: dict[str, Queue]) -> Queue:
        if channel == Channel.VIDEO:
            return queues["sign-video"]
        if citizen.preferred_language != "ko" and channel in ("voice", "webchat", "kakao"):
            return queues["foreign"]
        if channel in queues["chat"].channels:
            return queues["chat"]
        return queues["general"]

    def _play(self, contact, story: "DemoStory", departments, supervisor, rng) -> None:
        agent, inquiry, category = story.agent, story.inquiry, story.category
        wait, talk, wrapup, abandoned = story.wait, story.talk, story.wrapup, story.abandoned
        if abandoned:
            Contact.objects.filter(pk=contact.pk).update(
                abandoned=True, ended_at=contact.queued_at + wait
            )
            return
        answered_at = contact.queued_at + wait
        ended_at = answered_at + talk
        Contact.objects.filter(pk=contact.pk).update(
            agent=agent,
            offered_at=answered_at - timedelta(seconds=min(3, wait.total_seconds())),
            answered_at=answered_at,
            ended_at=ended_at,
            wrapup_ended_at=ended_at + wrapup,
        )
        if not contact.is_realtime:
            for sender, text, at in (
                (Message.Sender.CITIZEN, inquiry["utterance"], answered_at - timedelta(seconds=5)),
                (Message.Sender.AGENT, inquiry["answer"], answered_at + timedelta(seconds=40)),
            ):
                message = message_create(
                    contact=contact,
                    sender=sender,
                    text=text,
                    sender_user=agent.user if sender == Message.Sender.AGENT else None,
                )
                Message.objects.filter(pk=message.pk).update(created_at=at)
        if rng.random() < 0.12:
            return  # a quick answer that needed no ticket
        ticket = ticket_create(
            subject=inquiry["subject"],
            description=inquiry["utterance"],
            channel=contact.channel,
            citizen=contact.citizen,
            category=category_get_or_create_path(path=category),
            created_by=agent.user,
            contacts=[contact],
            created_at=answered_at,
        )
        Ticket.objects.filter(pk=ticket.pk).update(assignee=agent.user, status=Ticket.Status.OPEN)
        ticket.refresh_from_db()
        if inquiry.get("transfer"):
            department = self._department_for(category, departments)
            ticket_transfer(
                ticket=ticket,
                department=department,
                actor=agent.user,
                note=inquiry["utterance"],
                due=ended_at + timedelta(days=7),
                at=ended_at,
            )
            if rng.random() < 0.6:
                ticket_resolve(
                    ticket=ticket,
                    actor=supervisor,
                    answer=inquiry["answer"],
                    at=ended_at + timedelta(days=rng.randint(1, 5)),
                )
        else:
            ticket_resolve(
                ticket=ticket, actor=agent.user, answer=inquiry["answer"], at=ended_at + wrapup
            )

    @staticmethod
    def _department_for(category: str, departments: dict[str, Department]) -> Department:
        owners = Article.objects.filter(category=category_get_or_create_path(path=category))
        owner = owners.exclude(department=None).values_list("department__name", flat=True).first()
        return departments.get(owner) or next(iter(departments.values()))

    def _report(self, agents, supervisors, officers, created: int) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {Agent.objects.count()} agents, {Queue.objects.count()} queues, "
                f"{Article.objects.count()} articles, {Contact.objects.count()} contacts "
                f"({created} new), {Ticket.objects.count()} tickets."
            )
        )
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
        self.stdout.write("  administrator  admin")
        self.stdout.write(f"  supervisor     {', '.join(u.username for u in supervisors)}")
        self.stdout.write(
            f"  agent          {agents[0].user.username} … {agents[-1].user.username}"
        )
        signing = [
            a.user.username for a in agents if a.skills.filter(code="sign-language").exists()
        ]
        self.stdout.write(f"  sign language  {', '.join(signing)} (video calls: /video/)")
        for officer in officers:
            self.stdout.write(
                f"  officer        {officer.user.username} ({officer.department.name})"
            )
