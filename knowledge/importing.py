"""Knowledge base import/export in JSON Lines, one article per line:

{"external_id": str, "title": str, "question": str, "answer": str, "category": "세무/지방세",
 "department": str, "tags": [str], "synonyms": [str], "status": "published"|"draft"}
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import transaction

from knowledge.models import Article
from knowledge.services import article_save
from tickets.services import category_get_or_create_path, department_get_or_create

REQUIRED = ("external_id", "title", "question", "answer", "category")
STATUSES = (Article.Status.PUBLISHED, Article.Status.DRAFT)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _text(row: dict, key: str, *, required: bool) -> str:
    value = row.get(key, "")
    if not isinstance(value, str):
        raise ValueError(f'"{key}" must be a string')
    if required and not value.strip():
        raise ValueError(f'"{key}" is required')
    return value.strip()


def _strings(row: dict, key: str) -> list[str]:
    value = row.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f'"{key}" must be a list of strings')
    return [item.strip() for item in value if item.strip()]


def import_line(row, *, author) -> str:
    """Import one parsed line: 'created', 'updated' or 'unchanged'; ValueError if bad."""
    if not isinstance(row, dict):
        raise ValueError("each line must be a JSON object")
    values = {key: _text(row, key, required=key in REQUIRED) for key in (*REQUIRED, "department")}
    status = row.get("status", Article.Status.PUBLISHED)
    if status not in STATUSES:
        raise ValueError(f'"status" must be one of {", ".join(STATUSES)}')
    tags, synonyms = _strings(row, "tags"), _strings(row, "synonyms")
    article = Article.objects.filter(external_id=values["external_id"]).first()
    category = category_get_or_create_path(path=values["category"])
    department = (
        department_get_or_create(name=values["department"]) if values["department"] else None
    )
    if article is not None and (
        article.title,
        article.question,
        article.answer,
        article.category_id,
        article.department_id,
        article.tags,
        article.synonyms,
        article.status,
    ) == (
        values["title"],
        values["question"],
        values["answer"],
        category.pk,
        department.pk if department else None,
        tags,
        synonyms,
        status,
    ):
        return "unchanged"
    article_save(
        article=article,
        external_id=values["external_id"],
        title=values["title"],
        question=values["question"],
        answer=values["answer"],
        category=category,
        department=department,
        tags=tags,
        synonyms=synonyms,
        status=status,
        author=author,
        note="import",
    )
    return "created" if article is None else "updated"


def import_articles(lines: Iterable[str], *, author=None, progress=None) -> ImportReport:
    """Import every good line; a bad one is reported with its line number and skipped."""
    report = ImportReport()
    for number, line in enumerate(lines, start=1):
        if progress is not None:
            progress.update(1)
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            with transaction.atomic():
                outcome = import_line(row, author=author)
        except json.JSONDecodeError as error:
            report.errors.append((number, f"not valid JSON: {error.msg}"))
            continue
        except ValueError as error:
            report.errors.append((number, str(error)))
            continue
        except Exception as error:  # noqa: BLE001 - model validation: report, keep going
            messages = getattr(error, "messages", None)
            if messages is None:
                raise
            report.errors.append((number, "; ".join(messages)))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def export_articles() -> Iterator[str]:
    """Every article (not archived) as one JSON line, in the import format."""
    articles = (
        Article.objects.exclude(status=Article.Status.ARCHIVED)
        .select_related("category__parent", "department")
        .order_by("external_id", "id")
    )
    for article in articles.iterator(chunk_size=500):
        yield json.dumps(
            {
                "external_id": article.external_id or f"open120-{article.pk}",
                "title": article.title,
                "question": article.question,
                "answer": article.answer,
                "category": article.category.path if article.category else "",
                "department": article.department.name if article.department else "",
                "tags": article.tags,
                "synonyms": article.synonyms,
                "status": article.status
                if article.status == Article.Status.PUBLISHED
                else Article.Status.DRAFT,
            },
            ensure_ascii=False,
        )
