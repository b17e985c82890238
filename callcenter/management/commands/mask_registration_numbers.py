"""Mask registration numbers in rows stored before masking happened at write time.

    python manage.py mask_registration_numbers [--dry-run]

New rows are masked by the services before they are written (callcenter.pii); this command
rewrites what older versions stored: messages, tickets, ticket events, call-back notes,
outbox rows, search logs and survey comments, through
callcenter.services.contacts.personal_data_mask_stored. Safe to run again.
"""

from django.core.management.base import BaseCommand

from callcenter.models import CallbackRequest, Message
from callcenter.services.contacts import personal_data_mask_stored
from channels_app.models import OutboundMessage
from knowledge.models import SearchQueryLog
from tickets.models import SurveyAnswer, Ticket, TicketEvent

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
            changed = personal_data_mask_stored(model=model, fields=fields, dry_run=dry_run)
            verb = "would change" if dry_run else "changed"
            self.stdout.write(f"{model._meta.label}: {verb} {changed} rows")
