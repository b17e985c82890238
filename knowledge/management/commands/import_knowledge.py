from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from knowledge.importing import import_articles


class Command(BaseCommand):
    help = "Import knowledge articles from a JSON Lines file (re-import updates by external_id)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options) -> None:
        if not file.exists():
            raise CommandError(f"{file} does not exist")
        lines = file.read_text(encoding="utf-8").splitlines()
        with tqdm(total=len(lines), unit="line", disable=options["verbosity"] == 0) as progress:
            report = import_articles(lines, progress=progress)
        for number, reason in report.errors:
            self.stderr.write(f"line {number}: {reason} (skipped)")
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.created} created, {report.updated} updated, "
                f"{report.unchanged} unchanged, {len(report.errors)} skipped"
            )
        )
