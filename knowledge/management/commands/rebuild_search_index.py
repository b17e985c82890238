"""Re-analyse every knowledge-base article into its search document.

    python manage.py rebuild_search_index [--batch-size 200] [--no-progress]

Needed after changing the analyser (knowledge.search.ANALYZER_VERSION) or loading articles
without knowledge.services; running searches pick the new documents up within a second.
"""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from knowledge.models import Article
from knowledge.search import search_index_rebuild


class Command(BaseCommand):
    help = "Rebuild the knowledge-base search index (Korean morphemes + character bigrams)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", type=int, default=200, help="articles per batch")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, batch_size: int, no_progress: bool, **options) -> None:
        total = Article.objects.exclude(status=Article.Status.ARCHIVED).count()
        with tqdm(
            total=total,
            unit="article",
            desc="Indexing",
            file=self.stderr._out,
            disable=no_progress,
        ) as bar:
            summary = search_index_rebuild(batch_size=max(1, batch_size), progress=bar.update)
        statuses = ", ".join(f"{status} {n}" for status, n in summary["by_status"].items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Indexed {summary['indexed']} articles in {summary['seconds']} s "
                f"({summary['terms']} distinct terms); "
                f"removed {summary['removed']} documents of archived articles."
            )
        )
        self.stdout.write(f"Articles by status: {statuses or 'none'}")
