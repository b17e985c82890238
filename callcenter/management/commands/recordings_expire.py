"""Delete the call recordings older than VOICE_RECORDING_RETENTION_DAYS.

    python manage.py recordings_expire

Each expired recording is marked deleted and its DELETE queued to Twilio through the
outbox (callcenter.services.recordings.recordings_expire); beat runs the same every day.
Safe to run again: a recording is deleted once.
"""

from django.core.management.base import BaseCommand

from callcenter.services.recordings import recordings_expire


class Command(BaseCommand):
    help = "Delete call recordings older than VOICE_RECORDING_RETENTION_DAYS."

    def handle(self, *args, **options):
        deleted = recordings_expire()
        self.stdout.write(f"{deleted} recordings deleted")
