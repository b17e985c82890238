"""Rebuild the statistics rows (StatRow) from the raw contacts, tickets and surveys.

    python manage.py rebuild_stats [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--no-progress]

By default from the Seoul day of the first contact to today. Needed after loading history
without the worker running (a demo month, an import) or after changing a definition; the
worker keeps the last STATS_REFRESH_DAYS days fresh by itself.
"""

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Min
from django.utils import timezone
from tqdm import tqdm

from callcenter.metrics import SEOUL
from callcenter.models import AgentPresenceEvent, Contact
from callcenter.services.stats import stats_rebuild
from tickets.models import SurveyAnswer, Ticket, TicketEvent


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value}") from error


# The raw tables the rebuild reads: after a bulk load (a generated history, an import) their
# planner statistics are stale until autovacuum gets to them, and the per-ticket FCR and
# per-contact category lookups then pick scans that take minutes instead of seconds.
RAW_TABLES = (
    Contact,
    Ticket,
    Ticket.contacts.through,
    TicketEvent,
    SurveyAnswer,
    AgentPresenceEvent,
)


def _analyze() -> None:
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in RAW_TABLES)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


class Command(BaseCommand):
    help = "Rebuild the pre-aggregated statistics rows of the reports from the raw rows."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from", dest="first", type=_day, help="first Seoul day")
        parser.add_argument("--to", dest="last", type=_day, help="last Seoul day (inclusive)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, first: date | None, last: date | None, no_progress: bool, **options):
        today = timezone.localdate(timezone=SEOUL)
        last = last or today
        if first is None:
            earliest = Contact.objects.aggregate(first=Min("queued_at"))["first"]
            first = timezone.localtime(earliest, SEOUL).date() if earliest else last
        if last < first:
            raise CommandError(f"--to {last} is before --from {first}.")
        days = (last - first).days + 1
        started = time.monotonic()
        _analyze()
        with tqdm(
            total=days, unit="day", desc="Rebuilding", file=self.stderr._out, disable=no_progress
        ) as bar:
            written = stats_rebuild(start=first, end=last, progress=bar.update)
        seconds = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {written} statistics rows for {days} days "
                f"({first:%Y-%m-%d} … {last:%Y-%m-%d}) in {seconds:.1f} s."
            )
        )
