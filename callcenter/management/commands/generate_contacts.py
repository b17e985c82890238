"""Generate a long contact history for reports and benchmarks: the demo month's generator
(callcenter.services.demo_history) at any size, e.g. five million contacts over a year.

    python manage.py load_demo --no-history      # queues, categories, people (once)
    python manage.py generate_contacts --contacts 5000000 --days 365 [--seed N] [--end DAY]
    python manage.py rebuild_stats --from DAY --to DAY

Adds the agents the volume needs ("gen-agent-NNNN", no password: they cannot log in) and a
pool of citizens, then the contacts with their tickets, surveys, presence and (unless
``--no-messages``) chat transcripts. Each seed's contacts have their own provider ids, so a
seed is generated once. Not for a live centre: ids are taken from the current maximum.
"""

import sys
import time
from datetime import date, timedelta

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from callcenter import roles
from callcenter.management.commands.load_demo import SEED, _read_json
from callcenter.models import Agent, Contact, Queue, Skill, User
from callcenter.services.demo_history import HistoryGenerator

CONTACTS_PER_AGENT_DAY = 28
FOREIGN_SKILLS = ("lang-en", "lang-zh", "lang-ja", "lang-vi")


class Command(BaseCommand):
    help = "Generate N contacts over D days with the demo history's shapes (tqdm progress)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--contacts", type=int, default=100_000)
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--seed", type=int, default=SEED)
        parser.add_argument(
            "--end", type=date.fromisoformat, help="last Seoul day (default: yesterday)"
        )
        parser.add_argument(
            "--agents", type=int, help="agents to answer (default: one per 28 contacts a day)"
        )
        parser.add_argument("--no-messages", action="store_true", help="no chat transcripts")

    def handle(self, *args, **options) -> None:
        contacts, days = options["contacts"], options["days"]
        if contacts < 1 or days < 1:
            raise CommandError("--contacts and --days must be positive.")
        queues = {queue.code: queue for queue in Queue.objects.all()}
        if not {"general", "foreign", "sign-video", "chat"} <= set(queues):
            raise CommandError("Load the reference data first: manage.py load_demo --no-history")
        prefix = f"gen{options['seed']}-"
        if Contact.objects.filter(provider_id__startswith=prefix).exists():
            raise CommandError(f"Seed {options['seed']} is already generated here.")
        now = timezone.now()
        end = options["end"] or timezone.localdate(now) - timedelta(days=1)
        start = end - timedelta(days=days - 1)
        wanted = options["agents"] or max(20, round(contacts / days / CONTACTS_PER_AGENT_DAY))
        agents = self._agents(wanted)
        self.stdout.write(
            f"Generating {contacts:,} contacts from {start} to {end} "
            f"for {len(agents)} agents (seed {options['seed']})"
        )
        started = time.perf_counter()
        with tqdm(total=contacts, unit=" contacts", file=sys.stderr, smoothing=0.05) as bar:
            counts = HistoryGenerator(
                start=start,
                end=end,
                contacts=contacts,
                seed=options["seed"],
                prefix=prefix,
                agents=agents,
                queues=queues,
                inquiries=_read_json("tickets", "inquiries.json"),
                now=now,
                citizen_pool=max(100, contacts // 4),
                messages=not options["no_messages"],
                progress=bar.update,
            ).run()
        seconds = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"{counts.as_text()} in {seconds:.0f} s: {counts.rows / seconds:,.0f} rows/s, "
                f"{counts.contacts / seconds:,.0f} contacts/s"
            )
        )
        self.stdout.write(f"Next: manage.py rebuild_stats --from {start} --to {end}")

    def _agents(self, wanted: int) -> list[Agent]:
        """The centre's agents, topped up with generated ones: every 30th signs, every 8th
        speaks another language."""
        existing = list(Agent.objects.all())
        missing = wanted - len(existing)
        if missing > 0:
            skills = {skill.code: skill for skill in Skill.objects.all()}
            group = Group.objects.get(name=roles.AGENT)
            taken = set(
                User.objects.filter(username__startswith="gen-agent-").values_list(
                    "username", flat=True
                )
            )
            names = (f"gen-agent-{n:04d}" for n in range(1, wanted + len(taken) + 1))
            names = [name for name in names if name not in taken][:missing]
            with transaction.atomic():
                users = User.objects.bulk_create(
                    [User(username=name, first_name=f"상담사 {name[-4:]}") for name in names]
                )
                for user in users:
                    user.set_unusable_password()
                User.objects.bulk_update(users, ["password"])
                group.user_set.add(*users)
                created = Agent.objects.bulk_create(
                    [Agent(user=user, display_name=user.first_name) for user in users]
                )
                links = []
                for index, agent in enumerate(created):
                    codes = ["lang-ko"]
                    if index % 30 == 0:
                        codes.append("sign-language")
                    elif index % 8 == 1:
                        codes.append(FOREIGN_SKILLS[index // 8 % len(FOREIGN_SKILLS)])
                    links += [
                        Agent.skills.through(agent_id=agent.pk, skill_id=skills[code].pk)
                        for code in codes
                        if code in skills
                    ]
                Agent.skills.through.objects.bulk_create(links)
        return list(Agent.objects.select_related("user").prefetch_related("skills").order_by("pk"))
