from pathlib import Path

from django.core.management.base import BaseCommand

from knowledge.importing import export_articles


class Command(BaseCommand):
    help = "Export knowledge articles as JSON Lines (the import_knowledge format)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, nargs="?", help="write here instead of stdout")

    def handle(self, *args, file: Path | None = None, **options) -> None:
        lines = export_articles()
        if file is None:
            for line in lines:
                self.stdout.write(line)
            return
        count = 0
        with file.open("w", encoding="utf-8") as out:
            for line in lines:
                out.write(line + "\n")
                count += 1
        self.stderr.write(f"{count} articles written to {file}")
