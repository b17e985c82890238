import json
from io import StringIO

import pytest
from django.core.management import call_command

from knowledge.models import Article

pytestmark = pytest.mark.django_db

LINE = {
    "external_id": "seoul-001",
    "title": "자동차세 연납 신청",
    "question": "차세 한 번에 내면 할인돼요?",
    "answer": "1월에 연납하면 공제를 받을 수 있습니다.",
    "category": "세무/자동차세",
    "department": "세무과",
    "tags": ["자동차세", "연납"],
    "synonyms": ["차세"],
    "status": "published",
}


def write(tmp_path, *rows) -> str:
    path = tmp_path / "kb.jsonl"
    path.write_text(
        "\n".join(
            row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows
        ),
        encoding="utf-8",
    )
    return str(path)


def run_import(path) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_knowledge", path, stdout=out, stderr=err, verbosity=0)
    return out.getvalue(), err.getvalue()


def test_import_creates_categories_departments_and_articles(tmp_path):
    out, _ = run_import(write(tmp_path, LINE))
    article = Article.objects.get(external_id="seoul-001")
    assert article.category.path == "세무/자동차세"
    assert article.department.name == "세무과"
    assert article.synonyms == ["차세"] and article.status == "published"
    assert "1 created" in out


def test_reimport_updates_by_external_id_with_a_new_version_and_never_duplicates(tmp_path):
    run_import(write(tmp_path, LINE))
    out, _ = run_import(write(tmp_path, LINE))
    assert "1 unchanged" in out
    changed = {**LINE, "answer": "1월, 3월, 6월, 9월에 연납할 수 있습니다."}
    out, _ = run_import(write(tmp_path, changed))
    assert "1 updated" in out
    article = Article.objects.get()
    assert article.answer.startswith("1월, 3월")
    assert article.versions.count() == 2


def test_a_bad_line_is_reported_with_its_number_and_the_rest_imported(tmp_path):
    second = {**LINE, "external_id": "seoul-002", "title": "지방세 체납 조회"}
    path = write(
        tmp_path,
        LINE,
        "{not json",
        {**LINE, "external_id": "x", "title": ""},
        second,
        {**LINE, "external_id": "y", "status": "secret"},
    )
    out, err = run_import(path)
    assert "line 2: not valid JSON" in err
    assert 'line 3: "title" is required' in err
    assert "line 5:" in err and "status" in err
    assert "2 created" in out and "3 skipped" in out
    assert set(Article.objects.values_list("external_id", flat=True)) == {"seoul-001", "seoul-002"}


def test_export_writes_what_import_reads(tmp_path):
    run_import(write(tmp_path, LINE))
    target = tmp_path / "out.jsonl"
    call_command("export_knowledge", str(target), stderr=StringIO())
    exported = json.loads(target.read_text(encoding="utf-8").splitlines()[0])
    assert exported == LINE
