"""Queue a week's random sample of contacts per agent for evaluation (as the hourly task)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from callcenter.selectors_qa import week_monday
from callcenter.services.qa import qa_sample_week


class Command(BaseCommand):
    help = "Queue up to N handled contacts per agent of a Seoul week (default: this week)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--week", help="a day of the week to sample, YYYY-MM-DD")
        parser.add_argument(
            "--per-agent", type=int, help="contacts per agent (QA_SAMPLE_PER_AGENT_WEEK)"
        )

    def handle(self, *args, week=None, per_agent=None, **options) -> None:
        try:
            day = date.fromisoformat(week) if week else None
        except ValueError as error:
            raise CommandError(f"--week: {error}") from error
        if per_agent is not None and per_agent < 0:
            raise CommandError("--per-agent must be 0 or more")
        created = qa_sample_week(week_start=day, per_agent=per_agent)
        label = week_monday(day).isoformat() if day else "this week"
        self.stdout.write(self.style.SUCCESS(f"{created} contacts sampled ({label})."))
