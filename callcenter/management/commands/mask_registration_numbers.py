"""Mask registration numbers in rows stored before masking happened at write time.

    python manage.py mask_registration_numbers [--dry-run]

New rows are masked by the services before they are written (callcenter.pii); this command
rewrites what older versions stored: messages, tickets, ticket events, call-back notes,
outbox rows, search logs and survey comments. Safe to run again: a masked row stays as it is.
Rows are read in primary-key batches and only changed rows are written.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from callcenter.models import CallbackRequest, Message
from callcenter.pii import mask_personal_data
from channels_app.models import OutboundMessage
from knowledge.models import SearchQueryLog
from tickets.models import SurveyAnswer, Ticket, TicketEvent

BATCH = 2000
# Every model and field where free text from a citizen or staff is stored.
FIELDS = [
    (Message, ["text", "attachments"]),
    (Ticket, ["subject", "description", "answer", "address", "attributes"]),
    (TicketEvent, ["data"]),
    (CallbackRequest, ["note"]),
    (OutboundMessage, ["subject", "body"]),
    (SearchQueryLog, ["query"]),
    (SurveyAnswer, ["comment"]),
]


class Command(BaseCommand):
    help = "Mask resident/foreigner registration numbers in rows stored before masking."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count, change nothing.")

    def handle(self, *args, dry_run: bool = False, **options):
        for model, fields in FIELDS:
            changed = self._mask(model, fields, dry_run=dry_run)
            verb = "would change" if dry_run else "changed"
            self.stdout.write(f"{model._meta.label}: {verb} {changed} rows")

    def _mask(self, model, fields: list[str], *, dry_run: bool) -> int:
        changed, last_pk = 0, 0
        while True:
            rows = list(
                model.objects.filter(pk__gt=last_pk).order_by("pk").only("pk", *fields)[:BATCH]
            )
            if not rows:
                return changed
            last_pk = rows[-1].pk
            dirty = []
            for row in rows:
                masked = {field: mask_personal_data(getattr(row, field)) for field in fields}
                if any(masked[field] != getattr(row, field) for field in fields):
                    for field, value in masked.items():
                        setattr(row, field, value)
                    dirty.append(row)
            changed += len(dirty)
            if dirty and not dry_run:
                with transaction.atomic():
                    model.objects.bulk_update(dirty, fields)
