"""Load the demo centre: people, queues, categories, the KB and 30 days of history.

Idempotent: every row is found by a natural key (username, code, external id) before it is
created, and the history (callcenter.services.demo_history: about 17,000 contacts with
their tickets, surveys and the agents' presence, deterministic for ``--seed``) is skipped
when its contacts (provider ids "demo-…") are there, so a second run changes no counts.
"""

import json
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from callcenter import roles
from callcenter.models import (
    Agent,
    CallbackRequest,
    CannedReply,
    Citizen,
    Contact,
    Evaluation,
    EvaluationForm,
    EvaluationItem,
    EvaluationSection,
    EvaluationTask,
    Queue,
    Skill,
    User,
)
from callcenter.services.callbacks import callback_attempt_record, callback_request_create
from callcenter.services.demo_history import HistoryGenerator
from callcenter.services.qa import (
    Answer,
    evaluation_acknowledge,
    evaluation_dispute,
    evaluation_dispute_resolve,
    evaluation_form_create,
    evaluation_save,
    qa_sample_week,
)
from callcenter.services.stats import stats_rebuild
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
from tickets.services import category_get_or_create_path

# The demo's QA scorecard: (section, [(question, kind, weight, allows N/A, auto-fail)]).
QA_SECTIONS = [
    (
        "인사와 응대",
        [
            ("표준 인사말로 상담을 시작했나요?", "yes_no", 1, False, False),
            ("시민의 용건을 정확히 확인했나요?", "yes_no", 2, False, False),
            ("친절하고 공손한 말투였나요?", "scale", 3, False, False),
        ],
    ),
    (
        "안내의 정확성",
        [
            ("안내 내용이 지식 베이스와 일치했나요?", "scale", 5, False, False),
            ("필요한 부서 이관·콜백을 안내했나요?", "yes_no", 2, True, False),
        ],
    ),
    (
        "개인정보와 마무리",
        [
            ("개인정보를 노출하지 않았나요?", "yes_no", 1, False, True),
            ("상담 기록(분류·답변)을 정확히 남겼나요?", "yes_no", 2, False, False),
            ("추가 문의를 확인하고 마무리했나요?", "yes_no", 1, False, False),
        ],
    ),
]
DEMO_PASSWORD = "open120-demo"  # noqa: S105 - printed for the demo; make run only
HISTORY_DAYS = 30
# About 700 on a weekday (Monday more), 300 at weekends: a month of a city's 120 line.
HISTORY_CONTACTS = 17_000
HISTORY_CITIZENS = 6_000
HISTORY_PREFIX = "demo-"
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


def _read_json(app: str, name: str):
    return json.loads((Path(settings.BASE_DIR) / app / "demo" / name).read_text(encoding="utf-8"))


def _read_jsonl(app: str, name: str) -> list[dict]:
    path = Path(settings.BASE_DIR) / app / "demo" / name
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


class Command(BaseCommand):
    help = "Load demo departments, categories, queues, people, KB articles and 30 days of history."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--seed",
            type=int,
            default=SEED,
            help="seed of the generated history (same seed, same month)",
        )
        parser.add_argument(
            "--contacts",
            type=int,
            default=HISTORY_CONTACTS,
            help="contacts in the generated month (about)",
        )
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="reference data, people and the KB only (for generate_contacts)",
        )

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
        created = 0
        if not options["no_history"]:
            created = self._history(
                agents, citizens, queues, inquiries, seed=options["seed"], size=options["contacts"]
            )
        self._callbacks(citizens, agents)
        self._quality(supervisors, seed=options["seed"])
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
    def _history(self, agents, citizens, queues, inquiries, *, seed: int, size: int) -> int:
        """A month of finished contacts that looks like a centre's, loaded once."""
        if Contact.objects.filter(provider_id__startswith=HISTORY_PREFIX).exists():
            return 0
        now = timezone.now()
        today = timezone.localdate(now)
        start = today - timedelta(days=HISTORY_DAYS - 1)
        self.stdout.write(f"Generating {HISTORY_DAYS} days of demo history (seed {seed})")
        with tqdm(total=size, unit=" contacts", file=sys.stderr, disable=None) as bar:
            counts = HistoryGenerator(
                start=start,
                end=today,
                contacts=size,
                seed=seed,
                prefix=HISTORY_PREFIX,
                agents=agents,
                queues=queues,
                inquiries=inquiries,
                now=now,
                citizens=citizens,
                citizen_pool=max(100, size * HISTORY_CITIZENS // HISTORY_CONTACTS),
                progress=bar.update,
            ).run()
        with tqdm(total=HISTORY_DAYS, unit=" days", file=sys.stderr, disable=None) as bar:
            stats_rebuild(start=start, end=today, progress=bar.update)
        self.stdout.write(f"Demo history: {counts.as_text()}")
        return counts.contacts

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

    def _quality(self, supervisors: list[User], *, seed: int) -> None:
        """A QA scorecard, the last weeks' samples and their evaluations, each submitted
        1–3 days after its contact (some acknowledged a day or so later, one disputed, one
        dispute upheld and re-scored, one contact scored by every supervisor for
        calibration); loaded once."""
        if EvaluationForm.objects.exists():
            return
        form = evaluation_form_create(
            name="상담 품질 평가표",
            description="120 상담 품질 기준: 응대, 정확성, 개인정보 보호, 마무리.",
            created_by=supervisors[0],
        )
        for order, (title, items) in enumerate(QA_SECTIONS):
            section = EvaluationSection.objects.create(form=form, title=title, order=order)
            for item_order, (text, kind, weight, allows_na, auto_fail) in enumerate(items):
                EvaluationItem.objects.create(
                    section=section,
                    text=text,
                    kind=kind,
                    weight=weight,
                    allows_na=allows_na,
                    auto_fail=auto_fail,
                    order=item_order,
                )
        items = list(EvaluationItem.objects.filter(section__form=form))
        today = timezone.localdate()
        rng = random.Random(seed)  # noqa: S311 - demo data
        evaluated = []
        for weeks_ago in (4, 3, 2, 1, 0):
            monday = today - timedelta(days=today.weekday() + 7 * weeks_ago)
            qa_sample_week(week_start=monday)
            if weeks_ago == 0:
                continue  # this week's sample waits for the supervisors
            tasks = EvaluationTask.objects.filter(week=monday).select_related("contact")
            for number, task in enumerate(tasks):
                answers = {item.pk: Answer(self._qa_value(item, rng)) for item in items}
                evaluated.append(
                    evaluation_save(
                        form=form,
                        contact=task.contact,
                        evaluator=supervisors[number % len(supervisors)],
                        answers=answers,
                        comment="",
                        submit=True,
                        at=self._qa_later(task.contact.ended_at, rng),
                    )
                )
        upheld = False
        for number, evaluation in enumerate(evaluated[:: max(1, len(evaluated) // 12)]):
            agent_user = evaluation.agent.user
            answered_at = self._qa_later(evaluation.submitted_at, rng, days=(0.5, 1.5))
            if number == 0:
                evaluation_dispute(
                    evaluation=evaluation,
                    user=agent_user,
                    comment="시민이 요청한 부서 이관을 안내했는데 반영되지 않은 것 같습니다.",
                    at=answered_at,
                )
            elif not upheld and evaluation.score < 100:
                self._qa_upheld_dispute(evaluation, supervisors, rng, at=answered_at)
                upheld = True
            else:
                evaluation_acknowledge(evaluation=evaluation, user=agent_user, at=answered_at)
        if evaluated:
            contact = evaluated[-1].contact
            for supervisor in supervisors:
                if supervisor.pk == evaluated[-1].evaluator_id:
                    continue
                answers = {item.pk: Answer(self._qa_value(item, rng)) for item in items}
                evaluation_save(
                    form=form,
                    contact=contact,
                    evaluator=supervisor,
                    answers=answers,
                    calibration=True,
                    submit=True,
                    at=self._qa_later(contact.ended_at, rng),
                )
        self.stdout.write(f"QA: {len(evaluated)} evaluations of the last 4 weeks' samples")

    def _qa_upheld_dispute(
        self, evaluation, supervisors: list[User], rng: random.Random, *, at: datetime
    ) -> None:
        """A dispute a supervisor upheld a day or so later, re-scoring every answer that
        fell short one step up: the agent's list shows the score before and after."""
        evaluation_dispute(
            evaluation=evaluation,
            user=evaluation.agent.user,
            comment="녹취를 다시 들어 보시면 지식 베이스대로 안내했습니다.",
            at=at,
        )
        answers = {}
        for answer in evaluation.answers.select_related("item"):
            value = answer.value
            if value is not None and value < answer.item.max_value:
                value += 1
            answers[answer.item_id] = Answer(value, answer.comment)
        resolver = next(s for s in supervisors if s.pk != evaluation.evaluator_id)
        evaluation_dispute_resolve(
            evaluation=evaluation,
            resolver=resolver,
            outcome=Evaluation.Outcome.UPHELD,
            note="녹취 확인 결과 안내가 정확했습니다. 점수를 고칩니다.",
            answers=answers,
            at=self._qa_later(at, rng, days=(0.5, 1.5)),
        )

    @staticmethod
    def _qa_later(
        since: datetime, rng: random.Random, *, days: tuple[float, float] = (1, 3)
    ) -> datetime:
        """A moment ``days`` (1–3 by default, at random) after ``since``, as supervisors and
        agents take their time; never in the future (at latest a few minutes ago)."""
        later = since + timedelta(days=rng.uniform(*days))
        latest = max(since, timezone.now() - timedelta(minutes=rng.randint(5, 90)))
        return min(later, latest)

    @staticmethod
    def _qa_value(item: EvaluationItem, rng: random.Random) -> int | None:
        if item.allows_na and rng.random() < 0.3:
            return None
        if item.kind == EvaluationItem.Kind.YES_NO:
            return 0 if rng.random() < (0.02 if item.auto_fail else 0.12) else 1
        return rng.choices(range(1, item.scale_max + 1), weights=[1, 2, 6, 14, 12])[0]

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
