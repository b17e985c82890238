"""python manage.py open311_key create NAME | list | revoke ID_OR_PREFIX"""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tickets.models import Open311Key
from tickets.services import open311_key_create, open311_key_revoke


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "-"


class Command(BaseCommand):
    help = "Create, list and revoke the API keys Open311 apps use to file service requests."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Make a key and print it (shown only once).")
        create.add_argument("name", help="The app or organisation that will use the key.")
        actions.add_parser("list", help="List keys: id, name, prefix, created, last used.")
        revoke = actions.add_parser("revoke", help="Stop accepting a key.")
        revoke.add_argument("key", help="The key's id or its prefix (first characters).")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"_{action}")(**options)

    def _create(self, *, name: str, **options) -> None:
        try:
            key, raw_key = open311_key_create(name=name)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(raw_key)
        self.stderr.write(
            f"Created Open311 key #{key.pk} for {key.name!r} (prefix {key.prefix}). "
            "Copy it now: it is not stored and cannot be shown again."
        )

    def _list(self, **options) -> None:
        keys = Open311Key.objects.order_by("id")
        if not keys:
            self.stdout.write("No Open311 keys.")
            return
        self.stdout.write(
            f"{'id':>4}  {'prefix':<8}  {'created':<16}  {'last used':<16}  {'revoked':<16}  name"
        )
        for key in keys:
            self.stdout.write(
                f"{key.pk:>4}  {key.prefix:<8}  {_when(key.created_at):<16}  "
                f"{_when(key.last_used_at):<16}  {_when(key.revoked_at):<16}  {key.name}"
            )

    def _revoke(self, *, key: str, **options) -> None:
        matches = list(Open311Key.objects.filter(pk=int(key))) if key.isdigit() else []
        if not matches and key:
            matches = list(Open311Key.objects.filter(prefix__startswith=key))
        if not matches:
            raise CommandError(f"No Open311 key with id or prefix {key!r}.")
        if len(matches) > 1:
            raise CommandError(
                f"{len(matches)} keys start with {key!r}; give the id instead "
                "(see open311_key list)."
            )
        found = matches[0]
        if found.revoked_at is not None:
            self.stdout.write(f"Key #{found.pk} ({found.name}) was already revoked.")
            return
        open311_key_revoke(key=found)
        self.stdout.write(f"Revoked key #{found.pk} ({found.name}, prefix {found.prefix}).")
